"""初期設定: サービスID, ユーザID, 利用開始パスワード → アプリロックについて → 暗証番号の設定."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from netbank.token_app.devicesecret import new_vault_store_kind
from netbank.token_app.install_source import DEVELOPMENT_SOURCES, bank_key_lines
from netbank.token_app.tui.base import (
    BANK_ACTIVATION_TRIES,
    AppScreen,
    ErrorText,
    PendingToken,
    Title,
    _error_text,
    pin_input,
    vault_message,
)
from netbank.token_app.vault import InvalidPinError, VaultError, pin_check_new

if TYPE_CHECKING:
    from netbank.token_app.install_config import InstallConfig


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
