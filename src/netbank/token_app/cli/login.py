"""``netbank-token login``: Directログイン."""

from __future__ import annotations

from typing import Any

from netbank.token_app.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_SERVER,
    EXIT_USAGE,
    CliError,
    Run,
    current_view,
    warn_clock_skew,
)
from netbank.token_app.launch import open_login_link
from netbank.token_app.messages import Messages


def login_error(exc: Exception, msg: Messages) -> CliError:
    from netbank.token_app.client import DirectLoginError

    if not isinstance(exc, DirectLoginError):
        raise exc
    if exc.code == "transport":
        return CliError(
            EXIT_SERVER, "server_unreachable", msg("err_network"), detail=exc.message_en
        )
    if exc.code == "untrusted":
        return CliError(EXIT_SERVER, "untrusted_answer", msg("err_untrusted_login"))
    if exc.code == "throttled":
        return CliError(EXIT_SERVER, "throttled", msg("err_throttled"))
    text = msg.pick(exc.message, exc.message_en) or msg("err_login_failed")
    return CliError(EXIT_REFUSED, exc.code, text, http_status=exc.status)


def cmd_login(run: Run) -> int:
    """Directログイン: ログインID + ログインパスワード here, the OTP added by the app."""
    msg, args = run.msg, run.args
    password: str | None = None
    if args.password_stdin:
        password = run.stdin_line(msg("login_password"))
    opened = run.unlock(run.vault())
    token = run.find(opened, args.token)
    login_id = args.login_id
    if login_id is None:
        try:
            login_id = str(run.env.prompt(msg("prompt_login_id"), secret=False))
        except EOFError:
            raise CliError(EXIT_USAGE, "no_tty", msg("err_no_tty", what=msg("login_id"))) from None
    login_id = login_id.strip()
    if not login_id:
        raise CliError(EXIT_USAGE, "login_id_required", msg("err_required", field=msg("login_id")))
    if password is None:
        password = run.ask_secret("prompt_login_password", msg("login_password"))
    if not password:
        raise CliError(
            EXIT_USAGE, "password_required", msg("err_required", field=msg("login_password"))
        )
    view = current_view(run, token)
    try:
        client = run.env.login_client_factory(token.bank_url)
        link = client.direct_login_link(
            service_id=token.service_id,
            user_id=token.user_id,
            login_id=login_id,
            password=password,
            code=view.code,
        )
    except ValueError as exc:  # a stored bank URL this client will not talk to
        raise CliError(EXIT_USAGE, "bank_url_invalid", str(exc)) from None
    except Exception as exc:
        raise login_error(exc, msg) from None
    warn_clock_skew(run, view)
    opened_browser = False
    if not (args.no_browser or run.as_json):
        opened_browser = open_login_link(link, run.env.open_browser, run.env.environ)
    if opened_browser:
        run.say(msg("login_opened"))
    else:
        # The documented fallback: the GET URL, for the customer to open themselves.
        run.say(msg("login_url"))
        run.say(link.url)
    result: dict[str, Any] = {"label": token.label, "browser_opened": opened_browser}
    if not opened_browser:
        result["url"] = link.url
    run.result(result)
    return EXIT_OK
