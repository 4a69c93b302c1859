"""The main screen: the current code large, its countdown, the clock warning, the tokens."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Digits, Label, ListItem, ListView, ProgressBar, Static

from netbank.token_app.codes import clock_skew_text, code_view
from netbank.token_app.tui.base import IDLE_LOCK_SECONDS, AppScreen, Title
from netbank.token_app.tui.lock import UnlockScreen
from netbank.token_app.tui.login import DirectLoginScreen
from netbank.token_app.tui.settings import SettingsScreen
from netbank.token_app.tui.setup import SetupScreen
from netbank.token_app.tui.signing import SigningScreen
from netbank.token_app.vault import TokenRecord


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
        left.update(m("seconds_left", seconds=view.whole_seconds_left))
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
