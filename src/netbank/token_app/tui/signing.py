"""取引認証: the operation read from the question, shown before the code."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.containers import Center, Horizontal, VerticalScroll
from textual.widgets import Button, Digits, Input, Label, Static

from netbank.token_app.tui.base import AppScreen, ErrorText, Title


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
