"""``netbank-token sign``: 取引認証."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netbank.token_app.cli.common import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_SERVER,
    EXIT_USAGE,
    CliError,
    Run,
)
from netbank.token_app.vault import TokenRecord

if TYPE_CHECKING:
    from netbank.token_app.signing import SigningRequest


def cmd_sign(run: Run) -> int:
    """取引認証: the operation is read from the question itself and shown before the code."""
    from netbank.token_app.signing import SigningQuestionError
    from netbank.token_app.signing_view import read_question

    msg, args = run.msg, run.args
    if args.fetch:
        return _sign_fetched(run)
    text = args.question
    if text is None:
        try:
            text = str(run.env.prompt(msg("prompt_sign_question"), secret=False))
        except EOFError:
            raise CliError(
                EXIT_USAGE, "no_tty", msg("err_no_tty", what=msg("sign_question"))
            ) from None
    try:
        question, request = read_question(text)
    except SigningQuestionError:
        raise CliError(EXIT_USAGE, "invalid_question", msg("err_sign_question")) from None
    if run.as_json and not args.yes:
        raise CliError(EXIT_USAGE, "confirm_needs_yes", msg("err_sign_needs_yes"))
    opened = run.unlock(run.vault())
    token = run.find(opened, args.token)
    return _sign_confirmed(run, token, question, request)


def _sign_fetched(run: Run) -> int:
    """sign --fetch: the question comes from the bank; the checks stay the same."""
    from netbank.token_app.signing import SigningQuestionError
    from netbank.token_app.signing_view import FetchError, fetch_pending_question, read_question

    msg = run.msg
    if run.as_json and not run.args.yes:
        raise CliError(EXIT_USAGE, "confirm_needs_yes", msg("err_sign_needs_yes"))
    opened = run.unlock(run.vault())
    token = run.find(opened, run.args.token)
    try:
        fetched = fetch_pending_question(token, now=run.env.clock())
    except FetchError as exc:
        if exc.code == "unauthorized":
            raise CliError(EXIT_REFUSED, "unauthorized", msg("err_sign_unauthorized")) from None
        raise CliError(
            EXIT_SERVER, "server_unreachable", msg("err_network"), detail=str(exc)
        ) from None
    if fetched is None:
        raise CliError(EXIT_NOT_FOUND, "nothing_pending", msg("sign_none_pending"))
    try:
        question, request = read_question(fetched)
    except SigningQuestionError:
        # The bank sent something outside its own format: sign nothing.
        raise CliError(EXIT_SERVER, "untrusted_answer", msg("err_sign_question")) from None
    return _sign_confirmed(run, token, question, request)


def _sign_confirmed(run: Run, token: TokenRecord, question: str, request: SigningRequest) -> int:
    from netbank.token_app.signing import sign_question
    from netbank.token_app.signing_view import operation_json, operation_lines

    msg, args = run.msg, run.args
    if not run.as_json:
        out = run.env.stderr
        out.write(msg("sign_confirm_intro") + "\n")
        for label, value in operation_lines(request, msg):
            out.write(f"  {label}: {value}\n")
    if not args.yes:
        try:
            answer = str(run.env.prompt(msg("prompt_sign_confirm"), secret=False))
        except EOFError:
            raise CliError(EXIT_USAGE, "confirm_needs_yes", msg("err_sign_needs_yes")) from None
        if answer.strip().lower() not in ("y", "yes", "はい"):
            run.say(msg("cancelled"))
            return EXIT_OK
    code = sign_question(token.signing_key, question)
    run.say(code)
    run.warn(msg("sign_code_hint"))
    run.result({"label": token.label, "operation": operation_json(request), "code": code})
    return EXIT_OK
