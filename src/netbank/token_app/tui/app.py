"""The Textual app: state shared by the screens, the first screen, the idle lock."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App

from netbank.token_app.install_source import install_config_source
from netbank.token_app.messages import Lang, Messages
from netbank.token_app.paths import default_vault_path
from netbank.token_app.timecheck import BootClock
from netbank.token_app.timecheck import boot_clock as timecheck_boot_clock
from netbank.token_app.tui.base import (
    ClientFactory,
    ConfigLoader,
    ConfigSource,
    PendingToken,
    TimeChecker,
    vault_message,
)
from netbank.token_app.tui.lock import RefusedScreen, UnlockScreen
from netbank.token_app.tui.main import MainScreen
from netbank.token_app.tui.setup import SetupScreen
from netbank.token_app.vault import (
    LABEL_MAX,
    KdfParams,
    TokenRecord,
    UnlockedVault,
    Vault,
    VaultError,
)

if TYPE_CHECKING:
    from netbank.token_app.install_config import InstallConfig


class TokenApp(App[int]):
    TITLE = "netbank-token"
    CSS = """
    Screen { background: $surface; }
    .title { dock: top; height: 1; background: $primary; color: $text; text-style: bold;
             content-align: center middle; width: 100%; }
    .body { padding: 1 2; }
    .intro { margin-bottom: 1; }
    .field-label { margin-top: 1; }
    .section { margin-top: 1; text-style: bold; color: $accent; }
    .hint { color: $text-muted; }
    .error { color: $error; text-style: bold; margin-top: 1; }
    .progress { color: $text-muted; }
    .message { color: $success; margin-top: 1; }
    .warning-box { color: $warning; text-style: bold; border: round $warning; padding: 0 1;
                   margin-top: 1; }
    .helpdesk { margin-top: 1; }
    .buttons { height: auto; margin-top: 1; align: center middle; }
    .buttons Button { margin: 0 1; }
    #main-buttons Button { min-width: 8; margin: 0 0 0 1; }
    #question { width: 52; }
    .row { height: auto; }
    .row Input { width: 1fr; }
    Input { width: 40; }
    #main { height: 1fr; }
    #sidebar { width: 24; border-right: solid $primary; padding: 0 1; }
    #display { padding: 0 2; }
    #token-list { height: auto; max-height: 12; }
    .token-label { text-style: bold; margin-top: 1; }
    #code { width: auto; margin: 1 0 0 0; }
    #countdown { margin-top: 1; width: 100%; }
    #countdown > Horizontal { width: 100%; }
    #countdown Bar { width: 1fr; }
    ConfirmScreen { align: center middle; }
    .dialog { width: 60; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    """

    def __init__(
        self,
        *,
        vault: Vault,
        lang: Lang = "ja",
        client_factory: ClientFactory | None = None,
        config_loader: ConfigLoader | None = None,
        clock: Callable[[], float] = time.time,
        time_checker: TimeChecker | None = None,
        login_client_factory: Callable[[str], Any] | None = None,
        open_browser: Callable[[str], bool] | None = None,
        pending_fetcher: Callable[[TokenRecord, float], str | None] | None = None,
        config_source: str = "",
        boot_clock: Callable[[], BootClock | None] = timecheck_boot_clock,
    ) -> None:
        super().__init__()
        # Where the install configuration comes from (install_source.install_config_source).
        self.config_source = config_source
        self.vault = vault
        self.msg = Messages(lang)
        self.client_factory: ClientFactory = client_factory or _default_client
        self.config_loader: ConfigLoader = config_loader or _config_loader(dict(os.environ))
        self.clock = clock
        self.time_checker = time_checker
        self.boot_clock = boot_clock
        self.login_client_factory: Callable[[str], Any] = (
            login_client_factory or _default_login_client
        )
        self.open_browser: Callable[[str], bool] = open_browser or _open_browser
        self.pending_fetcher: Callable[[TokenRecord, float], str | None] = (
            pending_fetcher or _fetch_pending
        )
        self.opened: UnlockedVault | None = None
        self.pending: PendingToken | None = None
        self.activation_failures: dict[tuple[str, str], int] = {}
        self._last_touch = clock()
        self._clock_checked = False

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.touch()
        await super().on_event(event)

    def on_mount(self) -> None:
        self.title = self.msg("app_title")
        if self.vault.exists():
            self.push_screen(UnlockScreen())
        else:
            self.push_screen(SetupScreen())

    # -- shared actions ------------------------------------------------------------------

    def touch(self) -> None:
        self._last_touch = self.clock()

    def idle_for(self) -> float:
        return self.clock() - self._last_touch

    def switch_to_main(self, message: str = "") -> None:
        self.touch()
        # Drop the set-up and lock screens under the main one: 戻る never leads back there.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(MainScreen(message))

    def refuse_vault(self, exc: VaultError) -> None:
        self.opened = None
        self.switch_screen(RefusedScreen(vault_message(exc, self.msg, self.clock())))

    def record_for(self, pending: PendingToken, *, opened: UnlockedVault | None) -> TokenRecord:
        config = pending.config
        base = (config.bank_name or pending.activated.service_id).strip()[:LABEL_MAX]
        label = opened.unique_label(base) if opened is not None else base
        now = self.clock()
        return TokenRecord(
            label=label,
            bank_url=config.bank_url,
            bank_name=config.bank_name,
            service_id=pending.activated.service_id,
            user_id=pending.activated.user_id,
            seed=pending.activated.seed,
            signing_key=pending.activated.signing_key,
            algorithm=pending.activated.algorithm,
            digits=pending.activated.digits,
            period=pending.activated.period,
            server_time_offset=float(pending.activated.server_time_offset),
            added_at=now,
            **self._clock_reference(now),
        )

    def _clock_reference(self, now: float) -> dict[str, Any]:
        """What a clock measurement records besides the offset, so that the CLI can tell
        a later change of the device clock (timecheck.clock_moved)."""
        boot = self.boot_clock()
        return {
            "time_checked_at": now,
            "clock_boot_id": boot.boot_id if boot else "",
            "clock_wall_at_boot": now - boot.seconds_since_boot if boot else 0.0,
        }

    def require_opened(self) -> UnlockedVault:
        if self.opened is None:
            raise RuntimeError("the vault is locked")
        return self.opened

    def save_new_token(self, pending: PendingToken) -> TokenRecord:
        opened = self.require_opened()
        record = self.record_for(pending, opened=opened)
        opened.add(record)
        return record

    def record_offset(self, bank_url: str, offset: float) -> None:
        """Store a fresh clock measurement on every token of that bank."""
        if self.opened is None:
            return
        now = self.clock()
        for token in self.opened.tokens:
            if token.bank_url == bank_url:
                self.opened.update(
                    token.label, server_time_offset=offset, **self._clock_reference(now)
                )

    def check_clocks(self) -> None:
        """Once per unlock, measure each bank's clock in the background; silent on failure."""
        if self.time_checker is None or self.opened is None or self._clock_checked:
            return
        self._clock_checked = True
        urls = sorted({t.bank_url for t in self.opened.tokens})
        if urls:
            self.run_worker(self._check_clocks(urls), group="clock")

    async def _check_clocks(self, urls: list[str]) -> None:
        checker = self.time_checker
        if checker is None:
            return
        for url in urls:
            try:
                offset = await asyncio.to_thread(checker, url)
            except Exception:  # noqa: S112 - offline: the warning keeps the last measurement
                continue
            self.record_offset(url, offset)
        screen = self.screen
        if isinstance(screen, MainScreen):
            screen.reload()

    def helpdesk_text(self) -> str:
        return self.msg("helpdesk_generic")


def _default_login_client(bank_url: str) -> Any:
    from netbank.token_app.client import DirectLoginClient

    return DirectLoginClient(bank_url)


def _fetch_pending(token: TokenRecord, now: float) -> str | None:
    from netbank.token_app.signing_view import fetch_pending_question

    return fetch_pending_question(token, now=now)


def _open_browser(url: str) -> bool:
    from netbank.token_app.launch import open_in_browser

    return open_in_browser(url)


def _default_client(config: InstallConfig) -> Any:
    from netbank.token_app.client import client_from_install_config

    return client_from_install_config(config)


def _config_loader(
    environ: dict[str, str], source: ConfigSource = install_config_source
) -> ConfigLoader:
    def load() -> InstallConfig:
        from netbank.token_app.install_config import install_config_load

        return install_config_load(source(None, environ)[0])

    return load


def _default_time_checker(bank_url: str) -> float:
    from netbank.token_app.timecheck import server_clock_offset

    return server_clock_offset(bank_url)


def run_tui(
    *,
    lang: Lang,
    vault_path: Path | None,
    kdf: KdfParams | None = None,
    environ: dict[str, str] | None = None,
    config_source: ConfigSource = install_config_source,
) -> int:
    vault = Vault(vault_path or default_vault_path(), kdf=kdf)
    environ = dict(os.environ) if environ is None else environ
    app = TokenApp(
        vault=vault,
        lang=lang,
        config_loader=_config_loader(environ, config_source),
        time_checker=_default_time_checker,
        config_source=config_source(None, environ)[1],
    )
    result = app.run()
    return int(result or 0)
