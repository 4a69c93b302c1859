"""設定: a token's name, its clock, the app-lock PIN, removing it."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from netbank.token_app.codes import clock_skew_text, code_view
from netbank.token_app.tui.base import (
    AppScreen,
    ErrorText,
    Title,
    pin_input,
    vault_message,
)
from netbank.token_app.tui.lock import WipedScreen
from netbank.token_app.tui.setup import SetupScreen
from netbank.token_app.vault import (
    LABEL_MAX,
    InvalidPinError,
    VaultError,
    VaultWipedError,
    pin_check_new,
)


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
