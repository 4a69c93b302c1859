"""``netbank-token``: the token app. No arguments opens the terminal UI; commands script it.

    netbank-token setup --service-id ID --user-id ID [--bank-config FILE]
                        [--password-stdin] [--pin-stdin] [--label NAME]
    netbank-token code [--token NAME]
    netbank-token list
    netbank-token remove --token NAME [--yes]
    netbank-token login [--token NAME] [--login-id ID] [--password-stdin] [--pin-stdin]
                        [--no-browser]     (Directログイン)
    netbank-token sign [--token NAME] [--question DIGITS | --fetch] [--yes]   (取引認証)
    netbank-token pin                      (change the app-lock PIN)

Every command takes ``--json`` (one JSON object on stdout, errors included),
``--lang ja|en`` and ``--vault FILE``. Exit codes are the ``EXIT_*`` constants of
``cli/common.py`` (docs/token-app.md lists them with examples).
"""

# The package is the command line's face: the entry point (``main``), the dispatch, and the
# names callers and tests use as ``cli.X``. Each command lives in a module of its own.

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from netbank.token_app.cli.code import cmd_code
from netbank.token_app.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_SERVER,
    EXIT_USAGE,
    EXIT_VAULT_REFUSED,
    CliError,
    Environment,
    Run,
    _emit_json,
    vault_error,
)
from netbank.token_app.cli.listing import cmd_list
from netbank.token_app.cli.login import cmd_login
from netbank.token_app.cli.parser import _build_parser
from netbank.token_app.cli.pin import cmd_pin
from netbank.token_app.cli.remove import cmd_remove
from netbank.token_app.cli.setup import cmd_setup, token_record_from
from netbank.token_app.cli.sign import cmd_sign
from netbank.token_app.install_source import (
    DEVELOPMENT_SOURCES,
    SOURCE_DOWNLOADED,
    SOURCE_ENVIRONMENT,
    SOURCE_OPTION,
    SOURCE_SHIPPED,
    shipped_install_config_path,
)
from netbank.token_app.install_source import install_config_source as _install_config_source
from netbank.token_app.launch import open_in_browser, open_login_link
from netbank.token_app.messages import Lang, Messages, detect_lang
from netbank.token_app.vault import LABEL_MAX

__all__ = [
    "COMMANDS",
    "DEVELOPMENT_SOURCES",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_LOCKED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_SERVER",
    "EXIT_USAGE",
    "EXIT_VAULT_REFUSED",
    "LABEL_MAX",
    "SOURCE_DOWNLOADED",
    "SOURCE_ENVIRONMENT",
    "SOURCE_OPTION",
    "SOURCE_SHIPPED",
    "CliError",
    "Environment",
    "Run",
    "install_config_path",
    "install_config_source",
    "main",
    "open_in_browser",
    "open_login_link",
    "run",
    "shipped_install_config_path",
    "token_record_from",
    "vault_error",
]


def install_config_source(explicit: Path | None, environ: dict[str, str]) -> tuple[Path, str]:
    """install_source.install_config_source, with the shipped file looked up here at call
    time (so replacing ``shipped_install_config_path`` on this module takes effect)."""
    return _install_config_source(explicit, environ, shipped=shipped_install_config_path())


def install_config_path(explicit: Path | None, environ: dict[str, str]) -> Path:
    return install_config_source(explicit, environ)[0]


COMMANDS: dict[str, Callable[[Run], int]] = {
    "sign": cmd_sign,
    "login": cmd_login,
    "setup": cmd_setup,
    "code": cmd_code,
    "list": cmd_list,
    "remove": cmd_remove,
    "pin": cmd_pin,
}


def _prescan_lang(argv: Sequence[str]) -> str | None:
    for index, item in enumerate(argv):
        if item.startswith("--lang="):
            return item.split("=", 1)[1]
        if item == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
    return None


def run(argv: Sequence[str], env: Environment | None = None) -> int:
    env = env or Environment()
    lang: Lang = detect_lang(_prescan_lang(argv), env.environ)
    msg = Messages(lang)
    as_json = "--json" in argv
    parser = _build_parser(msg, env, json_errors=as_json)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        from netbank.token_app.tui import run_tui

        return run_tui(
            lang=lang,
            vault_path=args.vault,
            kdf=env.kdf,
            environ=env.environ,
            config_source=install_config_source,
        )
    current = Run(args=args, env=env, msg=msg, as_json=bool(getattr(args, "json", False)))
    from netbank.token_app.launch import pages_remove_stale

    pages_remove_stale(environ=env.environ)  # an earlier Directログイン's page, now useless
    try:
        return COMMANDS[args.command](current)
    except CliError as exc:
        if current.as_json:
            _emit_json(
                env.stdout,
                {
                    "ok": False,
                    "command": args.command,
                    "error": {
                        "code": exc.code,
                        "message": exc.message,
                        "exit_code": exc.exit_code,
                        **exc.extra,
                    },
                },
            )
        else:
            env.stderr.write(exc.message + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        env.stderr.write("\n" + msg("err_interrupted") + "\n")
        return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv)
