"""The command line's arguments, with usage errors in the chosen language (and as
JSON with --json)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, TextIO

from netbank.token_app.cli.common import EXIT_USAGE, Environment, _emit_json
from netbank.token_app.messages import Messages
from netbank.token_app.paths import INSTALL_CONFIG_FILE_NAME, token_home

HELP: dict[str, tuple[str, str]] = {
    "prog": (
        "ワンタイムパスワードアプリ。引数なしで起動すると画面（TUI）が開きます。",
        "The one-time password app. Without arguments it opens the terminal UI.",
    ),
    "json": ("結果をJSONで出力する", "print one JSON object (errors too)"),
    "lang": ("表示言語（ja / en）", "language of messages (ja / en)"),
    "vault": ("保存ファイルの場所", "vault file to use"),
    "pin_stdin": (
        "暗証番号を標準入力から1行で読む",
        "read the PIN as one line of standard input",
    ),
    "setup": ("初期設定（トークンの設定）", "set up a token (初期設定)"),
    "service_id": ("メールに記載のサービスID", "the service ID from the mail"),
    "user_id": ("メールに記載のユーザID（12桁）", "the user ID from the mail (12 digits)"),
    "bank_config": (
        "銀行のインストール設定ファイル（開発・試験用。既定: アプリに同梱の設定、なければ {default}）",
        "the bank's install configuration, for development and testing (default: the one "
        "shipped with the app, else {default})",
    ),
    "password_stdin": (
        "利用開始パスワードを標準入力の1行目から読む（暗証番号はその次の行）",
        "read the activation password from the first line of standard input (the PIN next)",
    ),
    "label": ("トークンの表示名", "a label for the token"),
    "code": ("現在のワンタイムパスワードを表示", "show the current one-time password"),
    "token": ("トークンの表示名", "the token's label"),
    "list": ("保存されているトークンの一覧", "list the stored tokens"),
    "remove": ("トークンをこの端末から削除", "remove a token from this device"),
    "yes": ("確認せずに削除する", "do not ask for confirmation"),
    "pin": ("暗証番号（アプリロック）の変更", "change the app-lock PIN"),
    "login": (
        "Directログイン（ワンタイムパスワードを自動で添えてネットバンクを開く）",
        "Direct login: open the bank in the browser, the one-time password added by the app",
    ),
    "sign": (
        "取引認証（振込などの内容を確認して取引認証番号を表示）",
        "transaction signing: check the operation and show its signing code",
    ),
    "question": (
        "確認画面に表示された取引認証の質問（54桁。省略時は入力を求めます）",
        "the signing question from the bank's screen (54 digits; asked for when left out)",
    ),
    "fetch": (
        "認証を待っている質問を銀行から取得する",
        "fetch the question waiting to be signed from the bank",
    ),
    "sign_yes": (
        "確認を求めずに認証する（内容は表示されます）",
        "approve without asking (the operation is still shown)",
    ),
    "login_id": ("ログインID（省略時は入力を求めます）", "login ID (asked for when left out)"),
    "login_password_stdin": (
        "ログインパスワードを標準入力の1行目から読む（暗証番号はその次の行）",
        "read the login password from the first line of standard input (the PIN next)",
    ),
    "no_browser": (
        "ブラウザを開かずにURLを表示する",
        "print the URL instead of opening the browser",
    ),
}


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors in the chosen language and, with --json, as JSON."""

    msg = Messages("ja")
    json_errors = False
    out: TextIO = sys.stdout
    err: TextIO = sys.stderr

    def error(self, message: str) -> NoReturn:
        text = self.msg("err_usage", detail=message)
        if self.json_errors:
            _emit_json(
                self.out,
                {"ok": False, "error": {"code": "usage", "message": text, "exit_code": EXIT_USAGE}},
            )
        else:
            self.print_usage(self.err)
            self.err.write(text + "\n")
        raise SystemExit(EXIT_USAGE)


def _build_parser(msg: Messages, env: Environment, *, json_errors: bool) -> argparse.ArgumentParser:
    def h(key: str, **kw: object) -> str:
        ja, en = HELP[key]
        text = en if msg.lang == "en" else ja
        return text.format(**kw) if kw else text

    _Parser.msg = msg
    _Parser.json_errors = json_errors
    _Parser.out = env.stdout
    _Parser.err = env.stderr

    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help=h("json"))
    common.add_argument("--lang", choices=("ja", "en"), help=h("lang"))
    common.add_argument("--vault", type=Path, help=h("vault"))

    parser = _Parser(prog="netbank-token", description=h("prog"))
    parser.add_argument("--lang", choices=("ja", "en"), help=h("lang"))
    parser.add_argument("--vault", type=Path, help=h("vault"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    setup = sub.add_parser("setup", parents=[common], help=h("setup"), description=h("setup"))
    setup.add_argument("--service-id", required=True, help=h("service_id"))
    setup.add_argument("--user-id", required=True, help=h("user_id"))
    setup.add_argument(
        "--bank-config",
        type=Path,
        help=h("bank_config", default=token_home() / INSTALL_CONFIG_FILE_NAME),
    )
    setup.add_argument("--password-stdin", action="store_true", help=h("password_stdin"))
    setup.add_argument("--pin-stdin", action="store_true", help=h("pin_stdin"))
    setup.add_argument("--label", help=h("label"))

    code = sub.add_parser("code", parents=[common], help=h("code"), description=h("code"))
    code.add_argument("--token", help=h("token"))
    code.add_argument("--pin-stdin", action="store_true", help=h("pin_stdin"))

    listing = sub.add_parser("list", parents=[common], help=h("list"), description=h("list"))
    listing.add_argument("--pin-stdin", action="store_true", help=h("pin_stdin"))

    remove = sub.add_parser("remove", parents=[common], help=h("remove"), description=h("remove"))
    remove.add_argument("--token", required=True, help=h("token"))
    remove.add_argument("--yes", action="store_true", help=h("yes"))
    remove.add_argument("--pin-stdin", action="store_true", help=h("pin_stdin"))

    login = sub.add_parser("login", parents=[common], help=h("login"), description=h("login"))
    login.add_argument("--token", help=h("token"))
    login.add_argument("--login-id", help=h("login_id"))
    login.add_argument("--password-stdin", action="store_true", help=h("login_password_stdin"))
    login.add_argument("--pin-stdin", action="store_true", help=h("pin_stdin"))
    login.add_argument("--no-browser", action="store_true", help=h("no_browser"))

    sign = sub.add_parser("sign", parents=[common], help=h("sign"), description=h("sign"))
    sign.add_argument("--token", help=h("token"))
    source = sign.add_mutually_exclusive_group()
    source.add_argument("--question", help=h("question"))
    source.add_argument("--fetch", action="store_true", help=h("fetch"))
    sign.add_argument("--yes", action="store_true", help=h("sign_yes"))
    sign.add_argument("--pin-stdin", action="store_true", help=h("pin_stdin"))

    pin = sub.add_parser("pin", parents=[common], help=h("pin"), description=h("pin"))
    pin.add_argument("--pin-stdin", action="store_true", help=h("pin_stdin"))
    return parser
