"""The token app's terminal UI (Textual): the leaflet's phone app on a terminal.

Screens, in the leaflet's order:
  初期設定 (サービスID, ユーザID, 利用開始パスワード, 送信, 終了)
  → アプリロックについて (次へ) → 暗証番号の設定 (twice)
  → the main screen: the current code large, a bar counting down to the next one,
    a clock warning, the tokens in a list, 設定 (settings).
Next time the app opens on アプリロック解除 (the PIN).

Blocking work (the bank round trips, Argon2) runs in worker threads so the screen
keeps drawing; time comes from the app's injectable clock, so tests pin it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Digits,
    Input,
    Label,
    ListItem,
    ListView,
    ProgressBar,
    Static,
)

from netbank.token_app.codes import clock_skew_text, code_view
from netbank.token_app.devicesecret import new_vault_store_kind
from netbank.token_app.install_source import (
    DEVELOPMENT_SOURCES,
    bank_key_lines,
    install_config_source,
)
from netbank.token_app.messages import Lang, Messages
from netbank.token_app.paths import default_vault_path
from netbank.token_app.timecheck import BootClock
from netbank.token_app.timecheck import boot_clock as timecheck_boot_clock
from netbank.token_app.vault import (
    PASSPHRASE_MAX_CHARS,
    DeviceSecretMissingError,
    InvalidPinError,
    KdfParams,
    KeyringUnavailableError,
    PinDelayError,
    PinTooWeakError,
    StateFolderError,
    TokenRecord,
    UnlockedVault,
    Vault,
    VaultError,
    VaultTamperedError,
    VaultWipedError,
    WrongPinError,
    pin_check_new,
)

if TYPE_CHECKING:
    from netbank.token_app.client import ActivatedToken
    from netbank.token_app.install_config import InstallConfig

# The bank voids an issue after this many wrong 利用開始パスワード (DESIGN.md).
BANK_ACTIVATION_TRIES = 5
LABEL_MAX = 40
# Lock the app again after this long without a key press (a phone app locks when put away).
IDLE_LOCK_SECONDS = 300.0

ClientFactory = Callable[["InstallConfig"], Any]
ConfigLoader = Callable[[], "InstallConfig"]
TimeChecker = Callable[[str], float]
# install_source.install_config_source, or the command line's (install_source.install_config_source)
ConfigSource = Callable[[Path | None, dict[str, str]], tuple[Path, str]]


@dataclass
class PendingToken:
    """Activated at the bank, not yet saved: waits for the app lock PIN."""

    activated: ActivatedToken
    config: InstallConfig


def _error_text(exc: Exception, msg: Messages) -> str:
    from netbank.token_app import client

    if isinstance(exc, client.InvalidInputError):
        return msg.pick(exc.message, exc.message_en)
    if isinstance(exc, client.ActivationRefusedError):
        if exc.code == "throttled":
            return msg("err_throttled")
        return msg("err_activation_refused")
    if isinstance(exc, client.UntrustedAnswerError):
        return msg("err_untrusted")
    if isinstance(exc, client.TransportError):
        return msg("err_network")
    if isinstance(exc, client.ActivationError):
        return msg.pick(exc.message, exc.message_en)
    return str(exc)


def vault_message(exc: VaultError, msg: Messages, now: float) -> str:
    if isinstance(exc, WrongPinError):
        lines = [msg("err_wrong_pin")]
        if exc.warn:
            lines.append(msg("err_wrong_pin_left", n=exc.attempts_left))
        if exc.retry_at and exc.retry_at > now:
            lines.append(msg("err_pin_wait", seconds=round(exc.retry_at - now)))
        return "\n".join(lines)
    if isinstance(exc, PinDelayError):
        lines = [msg("err_pin_wait", seconds=max(1, round(exc.wait_seconds)))]
        if exc.warn:
            lines.append(msg("err_wrong_pin_left", n=exc.attempts_left))
        return "\n".join(lines)
    if isinstance(exc, PinTooWeakError):
        return msg("err_pin_too_weak")
    if isinstance(exc, InvalidPinError):
        return msg("err_invalid_pin")
    if isinstance(exc, StateFolderError):
        return msg("err_state_dir")
    if isinstance(exc, VaultWipedError):
        return msg("err_vault_wiped")
    if isinstance(exc, KeyringUnavailableError):
        return msg("err_keyring_unavailable")
    if isinstance(exc, DeviceSecretMissingError):
        return msg("err_device_secret_missing")
    if isinstance(exc, VaultTamperedError):
        return msg("err_vault_tampered")
    key = {"vault_changed": "err_vault_changed", "vault_not_found": "err_vault_not_found"}.get(
        exc.code
    )
    return msg(key) if key else str(exc)


class AppScreen(Screen[None]):
    """A screen of the token app (typed access to the app's state)."""

    @property
    def token_app(self) -> TokenApp:
        app = self.app
        if not isinstance(app, TokenApp):
            raise TypeError("token app screens run inside TokenApp")
        return app


class Title(Static):
    """The leaflet's screen title bar."""


class ErrorText(Static):
    """Plain-word errors, red; empty when there is none."""

    def show(self, text: str) -> None:
        self.update(text)
        self.display = bool(text)


# --- 初期設定 ----------------------------------------------------------------------------


class SetupScreen(AppScreen):
    """初期設定: サービスID, ユーザID, 利用開始パスワード, 送信, 終了 (the leaflet's drawing)."""

    def __init__(self, *, adding: bool = False) -> None:
        super().__init__()
        self.adding = adding  # from the main screen: 戻る returns there instead of quitting

    def compose(self) -> ComposeResult:
        m = self.token_app.msg
        yield Title(m("setup_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static(m("setup_intro"), classes="intro")
            yield ErrorText("", id="config-warning", classes="error")
            yield Static("", id="bank-key", classes="intro")
            yield Label(m("service_id") + ":", classes="field-label")
            yield Input(id="service-id", max_length=32, restrict=r"[A-Za-z0-9_\-]*")
            yield Label(m("user_id") + ":", classes="field-label")
            yield Input(id="user-id", max_length=12, restrict=r"[0-9]*")
            yield Label(m("activation_password") + ":", classes="field-label")
            yield Input(id="activation-password", password=True, max_length=8, restrict=r"[0-9]*")
            yield ErrorText("", id="error", classes="error")
            yield Static("", id="progress", classes="progress")
            with Horizontal(classes="buttons"):
                yield Button(m("send"), id="send", variant="primary")
                yield Button(m("back") if self.adding else m("quit"), id="quit")

    def on_mount(self) -> None:
        self.query_one("#error", ErrorText).show("")
        self._show_bank_key()
        self.query_one("#service-id", Input).focus()

    def _show_bank_key(self) -> None:
        """The fingerprint of the bank key the app trusts, to compare with the token mail
        (and a loud warning when a development source chose the configuration)."""
        app = self.token_app
        m = app.msg
        warning = ""
        if app.config_source in DEVELOPMENT_SOURCES:
            warning = m("warn_dev_config", source=app.config_source)
        self.query_one("#config-warning", ErrorText).show(warning)
        try:
            lines = bank_key_lines(app.config_loader(), app.clock(), m)
        except Exception:  # missing, broken or expired: 送信 says which, in plain words
            lines = []
        self.query_one("#bank-key", Static).update("\n".join(lines))

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        order = ["service-id", "user-id", "activation-password"]
        current = event.input.id or ""
        if current in order[:-1]:
            self.query_one("#" + order[order.index(current) + 1], Input).focus()
        else:
            self._send()

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        if self.adding:
            self.app.pop_screen()
        else:
            self.app.exit(0)

    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        from netbank.oath import activation as proto

        m = self.token_app.msg
        error = self.query_one("#error", ErrorText)
        service_id = self.query_one("#service-id", Input).value.strip()
        user_id = self.query_one("#user-id", Input).value.strip()
        password = self.query_one("#activation-password", Input).value
        problems = []
        for value, name, key, check in (
            (service_id, "service_id", "err_service_id", proto.check_service_id),
            (user_id, "user_id", "err_user_id", proto.check_user_id),
            (password, "activation_password", "err_activation_password", None),
        ):
            if not value:
                problems.append(m("err_required", field=m(name)))
                continue
            try:
                if check is None:
                    proto.activation_password_bytes(value)
                else:
                    check(value)
            except proto.ActivationError:
                problems.append(m(key))
        if problems:
            error.show("\n".join(problems))
            return
        try:
            config = self.token_app.config_loader()
        except Exception as exc:  # missing or broken install configuration: say so plainly
            error.show(m("err_install_config", detail=str(exc)))
            return
        from netbank.token_app.install_config import BankKeyExpiredConfigError

        try:
            config.keys_at(self.token_app.clock())
        except BankKeyExpiredConfigError as exc:
            error.show(m("err_bank_key_expired", detail=str(exc)))
            return
        if config.service_id and config.service_id != service_id:
            error.show(
                m(
                    "err_service_id_other_bank",
                    bank=config.bank_name or config.bank_url,
                    expected=config.service_id,
                )
            )
            return
        error.show("")
        self._busy(True)
        self.run_worker(self._activate(config, service_id, user_id, password), exclusive=True)

    def _busy(self, busy: bool) -> None:
        self.query_one("#send", Button).disabled = busy
        self.query_one("#progress", Static).update(self.token_app.msg("sending") if busy else "")

    async def _activate(
        self, config: InstallConfig, service_id: str, user_id: str, password: str
    ) -> None:
        app = self.token_app
        m = app.msg
        try:
            client = app.client_factory(config)
            activated = await asyncio.to_thread(client.activate, service_id, user_id, password)
        except Exception as exc:
            self._busy(False)
            password_field = self.query_one("#activation-password", Input)
            password_field.value = ""
            password_field.focus()
            self._refused(exc, service_id, user_id)
            return
        self._busy(False)
        pending = PendingToken(activated=activated, config=config)
        if app.opened is not None:
            try:
                record = app.save_new_token(pending)
            except (VaultError, OSError, ValueError) as exc:
                self.query_one("#error", ErrorText).show(
                    vault_message(exc, m, app.clock())
                    if isinstance(exc, VaultError)
                    else m("err_vault_io", detail=str(exc))
                )
                return
            app.switch_to_main(message=m("setup_done", label=record.label))
            return
        app.pending = pending
        app.push_screen(AppLockInfoScreen())

    def _refused(self, exc: Exception, service_id: str, user_id: str) -> None:
        from netbank.token_app import client

        app = self.token_app
        m = app.msg
        text = _error_text(exc, m)
        if isinstance(exc, client.ActivationRefusedError) and exc.code == "activation_failed":
            key = (service_id, user_id)
            app.activation_failures[key] = app.activation_failures.get(key, 0) + 1
            failures = app.activation_failures[key]
            if failures >= BANK_ACTIVATION_TRIES:
                app.push_screen(VoidedScreen())
                return
            text = "\n".join([text, m("attempts_here", n=failures), m("activation_void_hint")])
        self.query_one("#error", ErrorText).show(text)


class VoidedScreen(AppScreen):
    """After the bank voids the issue: what to do next, and whom to call."""

    def compose(self) -> ComposeResult:
        app = self.token_app
        m = app.msg
        yield Title(m("setup_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static(m("activation_voided"), id="voided", classes="warning-box")
            yield Static(app.helpdesk_text(), id="helpdesk", classes="helpdesk")
            with Horizontal(classes="buttons"):
                yield Button(m("back"), id="back", variant="primary")
                yield Button(m("quit"), id="quit")

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit(0)


# --- アプリロック -----------------------------------------------------------------------------


class AppLockInfoScreen(AppScreen):
    """アプリロックについて → 次へ."""

    def compose(self) -> ComposeResult:
        app = self.token_app
        m = app.msg
        yield Title(m("applock_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static(m("applock_body"), id="applock-body", classes="intro")
            with Horizontal(classes="buttons"):
                yield Button(m("next"), id="next", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#next", Button).focus()

    @on(Button.Pressed, "#next")
    def _next(self) -> None:
        self.app.push_screen(PinSetScreen())


def pin_input(input_id: str, kind: str | None) -> Input:
    """A PIN field: digits only with a keyring; without one ("file") a passphrase too."""
    if kind == "file":
        return Input(id=input_id, password=True, max_length=PASSPHRASE_MAX_CHARS)
    return Input(id=input_id, password=True, max_length=8, restrict=r"[0-9]*")


class PinSetScreen(AppScreen):
    """The app-lock PIN, 4–8 digits, typed twice; creates the vault with the new token."""

    def compose(self) -> ComposeResult:
        app = self.token_app
        m = app.msg
        self.kind = new_vault_store_kind()
        yield Title(m("pin_title"), classes="title")
        with VerticalScroll(classes="body"):
            label = "pin_new_file" if self.kind == "file" else "pin_new"
            yield Label(m(label) + ":", classes="field-label")
            yield pin_input("pin", self.kind)
            yield Label(m("pin_again") + ":", classes="field-label")
            yield pin_input("pin-again", self.kind)
            yield Static(m("pin_again_hint"), classes="hint")
            yield ErrorText("", id="error", classes="error")
            yield Static(m("unsaved_token_warning"), classes="hint")
            with Horizontal(classes="buttons"):
                yield Button(m("pin_set_button"), id="set-pin", variant="primary")
                yield Button(m("quit"), id="quit")

    def on_mount(self) -> None:
        self.query_one("#error", ErrorText).show("")
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    def _to_again(self) -> None:
        self.query_one("#pin-again", Input).focus()

    @on(Input.Submitted, "#pin-again")
    @on(Button.Pressed, "#set-pin")
    def _set(self) -> None:
        app = self.token_app
        m = app.msg
        error = self.query_one("#error", ErrorText)
        pin = self.query_one("#pin", Input).value
        again = self.query_one("#pin-again", Input).value
        try:
            pin_check_new(pin, self.kind)
        except InvalidPinError as exc:
            error.show(vault_message(exc, m, app.clock()))
            return
        if pin != again:
            self.query_one("#pin-again", Input).value = ""
            error.show(m("err_pin_mismatch"))
            return
        self.query_one("#set-pin", Button).disabled = True
        self.run_worker(self._create(pin), exclusive=True)

    async def _create(self, pin: str) -> None:
        app = self.token_app
        pending = app.pending
        if pending is None:  # the set-up screen always leaves one; nothing to save otherwise
            app.switch_screen(SetupScreen())
            return
        try:
            record = app.record_for(pending, opened=None)
            app.opened = await asyncio.to_thread(app.vault.create, pin, [record])
        except (VaultError, OSError) as exc:
            self.query_one("#set-pin", Button).disabled = False
            self.query_one("#error", ErrorText).show(
                vault_message(exc, app.msg, app.clock())
                if isinstance(exc, VaultError)
                else app.msg("err_vault_io", detail=str(exc))
            )
            return
        app.pending = None
        app.switch_to_main(message=app.msg("setup_done", label=record.label))

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit(0)


class UnlockScreen(AppScreen):
    """アプリロック解除: the PIN, with the wait and the last-tries warning shown up front."""

    def compose(self) -> ComposeResult:
        app = self.token_app
        m = app.msg
        yield Title(m("unlock_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static(m("unlock_intro"), classes="intro")
            yield Label(m("pin_enter") + ":", classes="field-label")
            yield pin_input("unlock-pin", app.vault.stored_kind())
            yield ErrorText("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(m("unlock_button"), id="unlock", variant="primary")
                yield Button(m("quit"), id="quit")

    def __init__(self) -> None:
        super().__init__()
        self.last_error = ""
        self.working = False

    def on_mount(self) -> None:
        self.query_one("#unlock-pin", Input).focus()
        self._refresh_status()
        self.set_interval(1.0, self._refresh_status)

    def _refresh_status(self) -> None:
        """The last error, the wait still to run and the last-tries warning; the button
        stays disabled while a wait runs."""
        app = self.token_app
        if self.working:
            return
        try:
            status = app.vault.status()
        except VaultError as exc:
            app.refuse_vault(exc)
            return
        lines = [self.last_error] if self.last_error else []
        if status.retry_at is not None:
            lines.append(
                app.msg("err_pin_wait", seconds=max(1, round(status.retry_at - app.clock())))
            )
        if status.warn:
            lines.append(app.msg("err_wrong_pin_left", n=status.attempts_left))
        self.query_one("#unlock", Button).disabled = status.retry_at is not None
        self.query_one("#error", ErrorText).show("\n".join(lines))

    @on(Input.Submitted, "#unlock-pin")
    @on(Button.Pressed, "#unlock")
    def _unlock(self) -> None:
        button = self.query_one("#unlock", Button)
        if button.disabled or self.working:
            return
        pin = self.query_one("#unlock-pin", Input).value
        button.disabled = True
        self.working = True
        self.run_worker(self._try(pin), exclusive=True)

    async def _try(self, pin: str) -> None:
        app = self.token_app
        try:
            opened = await asyncio.to_thread(app.vault.unlock, pin)
        except VaultWipedError:
            app.opened = None
            app.switch_screen(WipedScreen())
            return
        except (DeviceSecretMissingError, VaultTamperedError) as exc:
            app.refuse_vault(exc)
            return
        except VaultError as exc:
            field = self.query_one("#unlock-pin", Input)
            field.value = ""
            field.focus()
            self.working = False
            # The wait and the tries left are added by the status refresh.
            self.last_error = (
                app.msg("err_wrong_pin")
                if isinstance(exc, WrongPinError)
                else ""
                if isinstance(exc, PinDelayError)
                else vault_message(exc, app.msg, app.clock())
            )
            self._refresh_status()
            return
        app.opened = opened
        app.switch_to_main(
            message="" if opened.pin_meets_current_rule else app.msg("warn_pin_too_short")
        )

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit(0)


class WipedScreen(AppScreen):
    """The tenth wrong PIN: the tokens are gone; what to do now."""

    def compose(self) -> ComposeResult:
        app = self.token_app
        m = app.msg
        yield Title(m("unlock_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static(m("err_vault_wiped"), id="wiped", classes="warning-box")
            yield Static(app.helpdesk_text(), classes="helpdesk")
            with Horizontal(classes="buttons"):
                yield Button(m("setup_title"), id="setup", variant="primary")
                yield Button(m("quit"), id="quit")

    @on(Button.Pressed, "#setup")
    def _setup(self) -> None:
        self.app.switch_screen(SetupScreen())

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit(0)


class RefusedScreen(AppScreen):
    """A vault this app will not open (tampered, or copied from another device)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        app = self.token_app
        m = app.msg
        yield Title(m("app_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static(self.text, id="refused", classes="warning-box")
            yield Static(app.helpdesk_text(), classes="helpdesk")
            with Horizontal(classes="buttons"):
                yield Button(m("quit"), id="quit", variant="primary")

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit(3)


# --- main screen -------------------------------------------------------------------------


class TokenItem(ListItem):
    def __init__(self, token: TokenRecord) -> None:
        super().__init__(Label(token.label))
        self.token = token


class MainScreen(AppScreen):
    """The current code, large, its countdown, the clock warning, the tokens."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "direct_login", "Direct"),
        Binding("a", "add", "+"),
        Binding("s", "settings", "⚙"),
        Binding("l", "lock", "🔒"),
        Binding("q", "quit_app", "⏻"),
    ]

    def __init__(self, message: str = "") -> None:
        super().__init__()
        self.message = message
        self.selected = 0

    def compose(self) -> ComposeResult:
        m = self.token_app.msg
        yield Title(m("main_title"), classes="title")
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield Label(m("tokens"), classes="field-label")
                yield ListView(id="token-list")
            with Vertical(id="display"):
                yield Static("", id="token-label", classes="token-label")
                yield Static("", id="token-info", classes="hint")
                with Center():
                    yield Digits("", id="code")
                yield ProgressBar(total=30, show_percentage=False, show_eta=False, id="countdown")
                yield Static("", id="seconds-left", classes="hint")
                yield Static("", id="skew-warning", classes="warning-box")
                yield Static(self.message, id="message", classes="message")
        with Horizontal(classes="buttons", id="main-buttons"):
            yield Button(m("direct_login"), id="direct-login", variant="primary")
            yield Button(m("sign_title"), id="sign")
            yield Button(m("add_token"), id="add-token")
            yield Button(m("settings"), id="settings")
            yield Button(m("lock_now"), id="lock")
            yield Button(m("quit"), id="quit")

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(0.5, self.tick)
        self.token_app.check_clocks()

    def reload(self) -> None:
        app = self.token_app
        tokens = app.opened.tokens if app.opened else ()
        listing = self.query_one("#token-list", ListView)
        listing.clear()
        for token in tokens:
            listing.append(TokenItem(token))
        if tokens:
            self.selected = min(self.selected, len(tokens) - 1)
            listing.index = self.selected
        self.query_one("#message", Static).display = bool(self.message)
        self.tick()

    @on(ListView.Highlighted, "#token-list")
    def _highlight(self, event: ListView.Highlighted) -> None:
        listing = self.query_one("#token-list", ListView)
        if listing.index is not None:
            self.selected = listing.index
        self.tick()

    def current(self) -> TokenRecord | None:
        app = self.token_app
        tokens = app.opened.tokens if app.opened else ()
        if not tokens:
            return None
        return tokens[min(self.selected, len(tokens) - 1)]

    def tick(self) -> None:
        app = self.token_app
        if app.idle_for() > IDLE_LOCK_SECONDS:
            self.action_lock()
            return
        token = self.current()
        m = app.msg
        code = self.query_one("#code", Digits)
        bar = self.query_one("#countdown", ProgressBar)
        left = self.query_one("#seconds-left", Static)
        warning = self.query_one("#skew-warning", Static)
        if token is None:
            code.update("")
            self.query_one("#token-label", Static).update(m("err_no_tokens"))
            self.query_one("#token-info", Static).update("")
            warning.display = False
            return
        view = code_view(token, app.clock())
        code.update(view.grouped())
        bar.update(total=view.period, progress=view.seconds_left)
        left.update(m("seconds_left", seconds=int(view.seconds_left) or 1))
        self.query_one("#token-label", Static).update(token.label)
        bank = token.bank_name or token.bank_url
        self.query_one("#token-info", Static).update(
            f"{bank}  {m('service_id')}: {token.service_id}  {m('user_id')}: {token.user_id}"
        )
        key, seconds = clock_skew_text(view.skew_seconds)
        warning.update(m(key, seconds=seconds))
        warning.display = view.skew_warning

    @on(Button.Pressed, "#direct-login")
    def action_direct_login(self) -> None:
        token = self.current()
        if token is not None:
            self.app.push_screen(DirectLoginScreen(token.label))

    @on(Button.Pressed, "#sign")
    def action_sign(self) -> None:
        token = self.current()
        if token is not None:
            self.app.push_screen(SigningScreen(token.label))

    @on(Button.Pressed, "#add-token")
    def action_add(self) -> None:
        self.app.push_screen(SetupScreen(adding=True))

    @on(Button.Pressed, "#settings")
    def action_settings(self) -> None:
        token = self.current()
        if token is not None:
            self.app.push_screen(SettingsScreen(token.label))

    @on(Button.Pressed, "#lock")
    def action_lock(self) -> None:
        app = self.token_app
        app.opened = None
        app.switch_screen(UnlockScreen())

    @on(Button.Pressed, "#quit")
    def action_quit_app(self) -> None:
        self.app.exit(0)


# --- Directログイン -----------------------------------------------------------------------


class DirectLoginScreen(AppScreen):
    """Directログイン: ログインID and ログインパスワード; the app adds the OTP and opens the bank."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        m = self.token_app.msg
        yield Title(m("login_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static(m("login_intro"), classes="intro")
            yield Static(self.label, classes="token-label")
            yield Label(m("login_id") + ":", classes="field-label")
            yield Input(id="login-id", max_length=64)
            yield Label(m("login_password") + ":", classes="field-label")
            yield Input(id="login-password", password=True, max_length=128)
            yield ErrorText("", id="error", classes="error")
            yield Static("", id="login-url", classes="message")
            with Horizontal(classes="buttons"):
                yield Button(m("login_button"), id="login", variant="primary")
                yield Button(m("back"), id="back")

    def on_mount(self) -> None:
        self.query_one("#error", ErrorText).show("")
        self.query_one("#login-url", Static).display = False
        self.query_one("#login-id", Input).focus()

    @on(Input.Submitted, "#login-id")
    def _to_password(self) -> None:
        self.query_one("#login-password", Input).focus()

    @on(Input.Submitted, "#login-password")
    @on(Button.Pressed, "#login")
    def _login(self) -> None:
        m = self.token_app.msg
        login_id = self.query_one("#login-id", Input).value.strip()
        password = self.query_one("#login-password", Input).value
        missing = [
            m("err_required", field=m(name))
            for name, value in (("login_id", login_id), ("login_password", password))
            if not value
        ]
        if missing:
            self.query_one("#error", ErrorText).show("\n".join(missing))
            return
        self.query_one("#login", Button).disabled = True
        self.run_worker(self._call(login_id, password), exclusive=True)

    async def _call(self, login_id: str, password: str) -> None:
        from netbank.token_app.client import DirectLoginError

        app = self.token_app
        m = app.msg
        error = self.query_one("#error", ErrorText)
        token = app.require_opened().find(self.label)
        code = code_view(token, app.clock()).code
        try:
            client = app.login_client_factory(token.bank_url)
            link = await asyncio.to_thread(
                client.direct_login_link,
                service_id=token.service_id,
                user_id=token.user_id,
                login_id=login_id,
                password=password,
                code=code,
            )
        except (DirectLoginError, ValueError) as exc:
            self.query_one("#login", Button).disabled = False
            field = self.query_one("#login-password", Input)
            field.value = ""
            field.focus()
            if not isinstance(exc, DirectLoginError):
                error.show(str(exc))
            elif exc.code == "transport":
                error.show(m("err_network"))
            elif exc.code == "untrusted":
                error.show(m("err_untrusted_login"))
            elif exc.code == "throttled":
                error.show(m("err_throttled"))
            else:
                error.show(m.pick(exc.message, exc.message_en) or m("err_login_failed"))
            return
        self.query_one("#login-password", Input).value = ""
        from netbank.token_app.launch import (
            PAGE_MAX_AGE_SECONDS,
            open_login_link,
            pages_remove_stale,
        )

        opened = await asyncio.to_thread(open_login_link, link, app.open_browser, os.environ)
        if opened:
            # The local page is useless once the ticket expired: delete it then.
            app.set_timer(PAGE_MAX_AGE_SECONDS + 1, lambda: pages_remove_stale())
            app.switch_to_main(message=m("login_opened"))
            return
        error.show("")
        shown = self.query_one("#login-url", Static)
        shown.update(m("login_url") + "\n" + link.url)
        shown.display = True

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.token_app.switch_to_main()


# --- 取引認証 ---------------------------------------------------------------------------------


class SigningScreen(AppScreen):
    """取引認証: the question from the bank's screen → the operation it encodes → the code."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.question = ""

    def compose(self) -> ComposeResult:
        m = self.token_app.msg
        yield Title(m("sign_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static(m("sign_intro"), classes="intro")
            yield Static(self.label, classes="token-label")
            yield Label(m("sign_question") + ":", classes="field-label")
            yield Input(id="question", max_length=90, restrict=r"[0-9０-９ \-]*")
            yield ErrorText("", id="error", classes="error")
            with Horizontal(classes="row"):
                yield Button(m("sign_check"), id="check")
                yield Button(m("sign_fetch"), id="fetch")
            yield Static("", id="operation", classes="warning-box")
            yield Button(m("sign_confirm"), id="approve", variant="warning")
            with Center():
                yield Digits("", id="sign-code")
            yield Static(m("sign_code_hint"), id="sign-hint", classes="hint")
        with Horizontal(classes="buttons"):
            yield Button(m("back"), id="back", variant="primary")

    def on_mount(self) -> None:
        self._show(operation=False, code=False)
        self.query_one("#error", ErrorText).show("")
        self.query_one("#question", Input).focus()

    def _show(self, *, operation: bool, code: bool) -> None:
        self.query_one("#operation", Static).display = operation
        self.query_one("#approve", Button).display = operation and not code
        self.query_one("#sign-code", Digits).display = code
        self.query_one("#sign-hint", Static).display = code

    @on(Input.Changed, "#question")
    def _changed(self, event: Input.Changed) -> None:
        from netbank.token_app.signing_view import normalise_question

        # A different question must be checked again before anything is signed.
        if normalise_question(event.value) != self.question:
            self.question = ""
            self._show(operation=False, code=False)

    @on(Button.Pressed, "#fetch")
    def _fetch(self) -> None:
        self.query_one("#fetch", Button).disabled = True
        self.run_worker(self._fetch_question(), exclusive=True)

    async def _fetch_question(self) -> None:
        from netbank.token_app.signing_view import FetchError

        app = self.token_app
        m = app.msg
        token = app.require_opened().find(self.label)
        error = self.query_one("#error", ErrorText)
        try:
            question = await asyncio.to_thread(app.pending_fetcher, token, app.clock())
        except FetchError as exc:
            error.show(m("err_sign_unauthorized" if exc.code == "unauthorized" else "err_network"))
            return
        finally:
            self.query_one("#fetch", Button).disabled = False
        if question is None:
            error.show(m("sign_none_pending"))
            return
        self.query_one("#question", Input).value = question
        self._check()

    @on(Input.Submitted, "#question")
    @on(Button.Pressed, "#check")
    def _check(self) -> None:
        from netbank.token_app.signing_view import (
            SigningQuestionError,
            operation_lines,
            read_question,
        )

        m = self.token_app.msg
        try:
            question, request = read_question(self.query_one("#question", Input).value)
        except SigningQuestionError:
            self.query_one("#error", ErrorText).show(m("err_sign_question"))
            return
        self.query_one("#error", ErrorText).show("")
        rows = "\n".join(f"{label}: {value}" for label, value in operation_lines(request, m))
        self.query_one("#operation", Static).update(m("sign_confirm_intro") + "\n\n" + rows)
        self.question = question
        self._show(operation=True, code=False)
        self.query_one("#approve", Button).focus()

    @on(Button.Pressed, "#approve")
    def _approve(self) -> None:
        from netbank.token_app.signing import sign_question

        if not self.question:
            return
        token = self.token_app.require_opened().find(self.label)
        self.query_one("#sign-code", Digits).update(sign_question(token.signing_key, self.question))
        self._show(operation=True, code=True)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.token_app.switch_to_main()


# --- settings ------------------------------------------------------------------------------


class ConfirmScreen(ModalScreen[bool]):
    def __init__(self, text: str, yes: str, no: str) -> None:
        super().__init__()
        self.text, self.yes, self.no = text, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.text, id="confirm-text")
            with Horizontal(classes="buttons"):
                yield Button(self.yes, id="confirm-yes", variant="error")
                yield Button(self.no, id="confirm-no", variant="primary")

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)


class SettingsScreen(AppScreen):
    """設定: rename, check the clock, change the PIN, remove the token; the helpdesk."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        app = self.token_app
        m = app.msg
        opened = app.require_opened()
        yield Title(m("settings_title"), classes="title")
        with VerticalScroll(classes="body"):
            yield Static("", id="settings-message", classes="message")
            yield Label(m("rename_token"), classes="section")
            with Horizontal(classes="row"):
                yield Input(self.label, id="label-input", max_length=LABEL_MAX)
                yield Button(m("change"), id="rename")
            yield Label(m("check_time"), classes="section")
            with Horizontal(classes="row"):
                yield Button(m("check_time"), id="check-time")
            yield Label(m("change_pin"), classes="section")
            yield Label(m("pin_current") + ":", classes="field-label")
            kind = app.require_opened().device_secret_kind
            yield pin_input("pin-current", kind)
            yield Label(
                m("pin_new_file" if kind == "file" else "pin_new") + ":", classes="field-label"
            )
            yield pin_input("pin-new", kind)
            yield Label(m("pin_again") + ":", classes="field-label")
            yield pin_input("pin-new-again", kind)
            yield Button(m("change_pin"), id="change-pin")
            yield Label(m("remove_token"), classes="section")
            yield Button(m("remove_token"), id="remove", variant="error")
            yield Static(
                m(
                    "device_secret_keyring"
                    if opened.device_secret_kind == "keyring"  # noqa: S105 - a store name
                    else "device_secret_file"
                ),
                classes="hint",
            )
            yield Label(m("helpdesk_title"), classes="section")
            yield Static(app.helpdesk_text(), classes="helpdesk")
            yield ErrorText("", id="error", classes="error")
        with Horizontal(classes="buttons"):
            yield Button(m("back"), id="back", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#error", ErrorText).show("")
        self.query_one("#settings-message", Static).display = False

    def _say(self, text: str) -> None:
        self.query_one("#error", ErrorText).show("")
        message = self.query_one("#settings-message", Static)
        message.update(text)
        message.display = True

    def _fail(self, text: str) -> None:
        self.query_one("#settings-message", Static).display = False
        self.query_one("#error", ErrorText).show(text)

    def _vault_failed(self, exc: Exception) -> None:
        app = self.token_app
        if isinstance(exc, VaultError):
            self._fail(vault_message(exc, app.msg, app.clock()))
        else:
            self._fail(app.msg("err_vault_io", detail=str(exc)))

    @on(Button.Pressed, "#rename")
    def _rename(self) -> None:
        app = self.token_app
        m = app.msg
        opened = app.require_opened()
        new = self.query_one("#label-input", Input).value.strip()
        if not (1 <= len(new) <= LABEL_MAX) or not new.isprintable():
            self._fail(m("err_label_invalid"))
            return
        try:
            opened.update(self.label, label=new)
        except ValueError:
            self._fail(m("err_label_taken", name=new))
            return
        except (VaultError, OSError) as exc:
            self._vault_failed(exc)
            return
        self.label = new
        self._say(m("renamed"))

    @on(Button.Pressed, "#check-time")
    def _check_time(self) -> None:
        app = self.token_app
        if app.time_checker is None:
            return
        self.query_one("#check-time", Button).disabled = True
        self.run_worker(self._measure(), exclusive=True)

    async def _measure(self) -> None:
        app = self.token_app
        m = app.msg
        opened = app.require_opened()
        checker = app.time_checker
        if checker is None:
            return
        token = opened.find(self.label)
        try:
            offset = await asyncio.to_thread(checker, token.bank_url)
        except Exception:
            self.query_one("#check-time", Button).disabled = False
            self._fail(m("err_network"))
            return
        self.query_one("#check-time", Button).disabled = False
        try:
            app.record_offset(token.bank_url, offset)
        except (VaultError, OSError) as exc:
            self._vault_failed(exc)
            return
        if code_view(replace(token, server_time_offset=offset), app.clock()).skew_warning:
            key, seconds = clock_skew_text(offset)
            self._fail(m(key, seconds=seconds))
        else:
            self._say(m("time_ok", seconds=abs(round(offset))))

    @on(Button.Pressed, "#change-pin")
    def _change_pin(self) -> None:
        app = self.token_app
        m = app.msg
        current = self.query_one("#pin-current", Input).value
        new = self.query_one("#pin-new", Input).value
        again = self.query_one("#pin-new-again", Input).value
        try:
            pin_check_new(new, app.require_opened().device_secret_kind)
        except InvalidPinError as exc:
            self._fail(vault_message(exc, m, app.clock()))
            return
        if new != again:
            self._fail(m("err_pin_mismatch"))
            return
        for name in ("#pin-current", "#pin-new", "#pin-new-again"):
            self.query_one(name, Input).value = ""
        self.query_one("#change-pin", Button).disabled = True
        self.run_worker(self._rekey(current, new), exclusive=True)

    async def _rekey(self, current: str, new: str) -> None:
        app = self.token_app
        # The current PIN is asked again, and counts like any other try: someone who
        # finds the app unlocked must not be able to take it over.
        try:
            opened = await asyncio.to_thread(app.vault.unlock, current)
            await asyncio.to_thread(opened.change_pin, new)
        except VaultWipedError:
            app.opened = None
            app.switch_screen(WipedScreen())
            return
        except (VaultError, OSError) as exc:
            self.query_one("#change-pin", Button).disabled = False
            self._vault_failed(exc)
            return
        self.query_one("#change-pin", Button).disabled = False
        app.opened = opened
        self._say(app.msg("pin_changed"))

    @on(Button.Pressed, "#remove")
    def _remove(self) -> None:
        m = self.token_app.msg
        self.app.push_screen(
            ConfirmScreen(m("remove_confirm", label=self.label), m("remove_yes"), m("back")),
            self._removed,
        )

    def _removed(self, confirmed: bool | None) -> None:
        app = self.token_app
        if not confirmed:
            return
        opened = app.require_opened()
        try:
            opened.remove(self.label)
        except (VaultError, OSError) as exc:
            self._vault_failed(exc)
            return
        if not opened.tokens:
            app.opened = None
            app.vault.wipe()
            app.switch_screen(SetupScreen())
            return
        app.switch_to_main(message=app.msg("removed", label=self.label))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.token_app.switch_to_main()


# --- the app -------------------------------------------------------------------------------


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
