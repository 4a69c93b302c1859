"""アプリロック解除 (the PIN), and the screens after a wiped or refused vault."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from netbank.token_app.tui.base import AppScreen, ErrorText, Title, pin_input, vault_message
from netbank.token_app.tui.setup import SetupScreen
from netbank.token_app.vault import (
    DeviceSecretMissingError,
    PinDelayError,
    VaultError,
    VaultTamperedError,
    VaultWipedError,
    WrongPinError,
)


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
