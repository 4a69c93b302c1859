"""Directログイン: ログインID + ログインパスワード, the code added by the app."""

from __future__ import annotations

import asyncio
import os

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from netbank.token_app.codes import code_view
from netbank.token_app.tui.base import AppScreen, ErrorText, Title


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
