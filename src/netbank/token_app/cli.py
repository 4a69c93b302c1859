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
``--lang ja|en`` and ``--vault FILE``. Exit codes are the ``EXIT_*`` constants below
(docs/token-app.md lists them with examples).
"""

from __future__ import annotations

import argparse
import getpass as getpass_module
import json
import os
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from netbank.token_app.codes import CodeView, clock_skew_text, code_view
from netbank.token_app.devicesecret import new_vault_store_kind
from netbank.token_app.install_source import (  # re-exported: callers name them cli.X
    DEVELOPMENT_SOURCES as DEVELOPMENT_SOURCES,
)
from netbank.token_app.install_source import SOURCE_DOWNLOADED as SOURCE_DOWNLOADED
from netbank.token_app.install_source import SOURCE_ENVIRONMENT as SOURCE_ENVIRONMENT
from netbank.token_app.install_source import SOURCE_OPTION as SOURCE_OPTION
from netbank.token_app.install_source import SOURCE_SHIPPED as SOURCE_SHIPPED
from netbank.token_app.install_source import bank_key_lines as bank_key_lines
from netbank.token_app.install_source import install_config_source as _install_config_source
from netbank.token_app.install_source import (
    shipped_install_config_path as shipped_install_config_path,
)
from netbank.token_app.launch import open_in_browser as open_in_browser
from netbank.token_app.launch import open_login_link as open_login_link
from netbank.token_app.messages import Lang, Messages, detect_lang
from netbank.token_app.paths import INSTALL_CONFIG_FILE_NAME, default_vault_path, token_home
from netbank.token_app.timecheck import BootClock, boot_clock, clock_moved
from netbank.token_app.vault import (
    DeviceSecretMissingError,
    InvalidPinError,
    KdfParams,
    KeyringUnavailableError,
    PinDelayError,
    PinTooWeakError,
    StateFolderError,
    TokenRecord,
    UnlockedVault,
    Vault,
    VaultChangedError,
    VaultError,
    VaultExistsError,
    VaultNotFoundError,
    VaultTamperedError,
    VaultWipedError,
    WrongPinError,
    pin_check_new,
)

if TYPE_CHECKING:
    from netbank.token_app.client import ActivatedToken
    from netbank.token_app.install_config import InstallConfig
    from netbank.token_app.signing import SigningRequest

EXIT_OK = 0
EXIT_ERROR = 1  # unexpected: the vault could not be written, a bug
EXIT_USAGE = 2  # bad arguments or input (argparse uses 2 as well)
EXIT_LOCKED = 3  # app lock: wrong PIN, waiting after wrong PINs, vault wiped
EXIT_SERVER = 4  # the bank unreachable, or its answer garbage or not signed by the bank
EXIT_NOT_FOUND = 5  # no vault, no such token, no install configuration
EXIT_VAULT_REFUSED = 6  # the vault is tampered with, from another device, or changed meanwhile
EXIT_REFUSED = 7  # the bank refused: activation (wrong 利用開始パスワード, void) or Directログイン
EXIT_INTERRUPTED = 130

LABEL_MAX = 40


class CliError(Exception):
    def __init__(self, exit_code: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code
        self.message = message
        self.extra = extra


def _default_client(config: InstallConfig) -> Any:
    from netbank.token_app.client import client_from_install_config

    return client_from_install_config(config)


def _default_login_client(bank_url: str) -> Any:
    from netbank.token_app.client import DirectLoginClient

    return DirectLoginClient(bank_url)


def _tty_prompt(prompt: str, *, secret: bool) -> str:
    """Ask on the terminal (not stdin, which may be a pipe); CliError when there is none."""
    try:
        tty = open("/dev/tty", "r+", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        tty = None
    if tty is None and not sys.stdin.isatty():
        raise EOFError("no terminal")
    if tty is not None:
        tty.close()
    if secret:
        return getpass_module.getpass(prompt)
    return input(prompt)


@dataclass
class Environment:
    """Everything the CLI touches outside itself; tests pass their own."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    prompt: Callable[..., str] = _tty_prompt
    clock: Callable[[], float] = time.time
    kdf: KdfParams | None = None  # None: the parameters for the vault's mode
    client_factory: Callable[[InstallConfig], Any] = _default_client
    login_client_factory: Callable[[str], Any] = _default_login_client
    open_browser: Callable[[str], bool] = open_in_browser
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    boot_clock: Callable[[], BootClock | None] = boot_clock


# --- argument parsing -------------------------------------------------------------------

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


# --- output -------------------------------------------------------------------------------


def _emit_json(out: TextIO, data: dict[str, Any]) -> None:
    out.write(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")
    out.flush()


@dataclass
class Run:
    args: argparse.Namespace
    env: Environment
    msg: Messages
    as_json: bool
    _stdin_lines: list[str] | None = None

    # -- input ------------------------------------------------------------------------

    def stdin_line(self, what: str) -> str:
        line = self.env.stdin.readline()
        if not line:
            raise CliError(EXIT_USAGE, "stdin_empty", self.msg("err_stdin_empty", what=what))
        return line.rstrip("\r\n")

    def ask_secret(self, prompt_key: str, what: str) -> str:
        try:
            return str(self.env.prompt(self.msg(prompt_key), secret=True))
        except EOFError:
            raise CliError(EXIT_USAGE, "no_tty", self.msg("err_no_tty", what=what)) from None

    def read_pin(self) -> str:
        what = self.msg("pin_enter")
        if getattr(self.args, "pin_stdin", False):
            return self.stdin_line(what)
        return self.ask_secret("prompt_pin", what)

    def read_new_pin(self, kind: str) -> str:
        """A new PIN for a vault keeping its device secret in ``kind`` ("keyring" or
        "file": without a keyring, 8 digits or a passphrase)."""
        what = self.msg("pin_enter")
        if getattr(self.args, "pin_stdin", False):
            pin = self.stdin_line(what)
        else:
            prompt = "prompt_new_pin_file" if kind == "file" else "prompt_new_pin"
            pin = self.ask_secret(prompt, what)
            self._check_new_pin(pin, kind)
            if self.ask_secret("prompt_new_pin_again", what) != pin:
                raise CliError(EXIT_USAGE, "pin_mismatch", self.msg("err_pin_mismatch"))
        self._check_new_pin(pin, kind)
        return pin

    def _check_new_pin(self, pin: str, kind: str) -> None:
        try:
            pin_check_new(pin, kind)
        except InvalidPinError as exc:
            raise vault_error(exc, self.msg, self.env.clock()) from None

    # -- vault ------------------------------------------------------------------------

    def vault(self) -> Vault:
        path = self.args.vault or default_vault_path()
        return Vault(Path(path), kdf=self.env.kdf, clock=self.env.clock)

    def unlock(self, vault: Vault) -> UnlockedVault:
        if not vault.exists():
            raise vault_error(VaultNotFoundError(str(vault.path)), self.msg, self.env.clock())
        try:
            # Tampering, device and waiting checks come before anyone is asked for a PIN.
            status = vault.status()
            if status.retry_at is not None:
                raise PinDelayError(
                    retry_at=status.retry_at,
                    wait_seconds=status.retry_at - self.env.clock(),
                    attempts_left=status.attempts_left,
                )
            if status.warn:
                self.warn(self.msg("err_wrong_pin_left", n=status.attempts_left))
            pin = self.read_pin()
            opened = vault.unlock(pin)
        except VaultError as exc:
            raise vault_error(exc, self.msg, self.env.clock()) from None
        if not opened.pin_meets_current_rule:
            self.warn(self.msg("warn_pin_too_short"))
        return opened

    def find(self, opened: UnlockedVault, label: str | None) -> TokenRecord:
        try:
            return opened.find(label)
        except KeyError:
            if label is not None:
                raise CliError(
                    EXIT_NOT_FOUND, "token_not_found", self.msg("err_token_not_found", name=label)
                ) from None
            if not opened.tokens:
                raise CliError(EXIT_NOT_FOUND, "no_tokens", self.msg("err_no_tokens")) from None
            names = ", ".join(t.label for t in opened.tokens)
            raise CliError(
                EXIT_USAGE, "several_tokens", self.msg("err_several_tokens", names=names)
            ) from None

    # -- output ----------------------------------------------------------------------

    def say(self, text: str) -> None:
        if not self.as_json:
            self.env.stdout.write(text + "\n")

    def warn(self, text: str) -> None:
        if not self.as_json:
            self.env.stderr.write(text + "\n")

    def result(self, data: dict[str, Any]) -> None:
        if self.as_json:
            _emit_json(self.env.stdout, {"ok": True, "command": self.args.command, **data})


def vault_error(exc: VaultError, msg: Messages, now: float) -> CliError:
    """The customer-facing message and exit code for a vault refusal."""
    if isinstance(exc, WrongPinError):
        lines = [msg("err_wrong_pin")]
        if exc.warn:
            lines.append(msg("err_wrong_pin_left", n=exc.attempts_left))
        retry_in = max(0, round(exc.retry_at - now)) if exc.retry_at else 0
        if retry_in:
            lines.append(msg("err_pin_wait", seconds=retry_in))
        return CliError(
            EXIT_LOCKED,
            exc.code,
            "\n".join(lines),
            attempts_left=exc.attempts_left,
            retry_in_seconds=retry_in,
        )
    if isinstance(exc, PinDelayError):
        wait = max(1, round(exc.wait_seconds))
        lines = [msg("err_pin_wait", seconds=wait)]
        if exc.warn:
            lines.append(msg("err_wrong_pin_left", n=exc.attempts_left))
        return CliError(
            EXIT_LOCKED,
            exc.code,
            "\n".join(lines),
            attempts_left=exc.attempts_left,
            retry_in_seconds=wait,
        )
    if isinstance(exc, VaultWipedError):
        return CliError(
            EXIT_LOCKED, exc.code, msg("err_vault_wiped") + "\n" + msg("helpdesk_generic")
        )
    if isinstance(exc, PinTooWeakError):
        return CliError(EXIT_USAGE, exc.code, msg("err_pin_too_weak"))
    if isinstance(exc, InvalidPinError):
        return CliError(EXIT_USAGE, exc.code, msg("err_invalid_pin"))
    if isinstance(exc, StateFolderError):
        return CliError(EXIT_USAGE, exc.code, msg("err_state_dir"), detail=str(exc))
    if isinstance(exc, VaultNotFoundError):
        return CliError(EXIT_NOT_FOUND, exc.code, msg("err_vault_not_found"))
    if isinstance(exc, VaultExistsError):
        return CliError(EXIT_USAGE, exc.code, msg("err_vault_exists"))
    if isinstance(exc, KeyringUnavailableError):
        return CliError(EXIT_VAULT_REFUSED, exc.code, msg("err_keyring_unavailable"))
    if isinstance(exc, DeviceSecretMissingError):
        return CliError(EXIT_VAULT_REFUSED, exc.code, msg("err_device_secret_missing"))
    if isinstance(exc, VaultChangedError):
        return CliError(EXIT_VAULT_REFUSED, exc.code, msg("err_vault_changed"))
    if isinstance(exc, VaultTamperedError):
        return CliError(EXIT_VAULT_REFUSED, exc.code, msg("err_vault_tampered"))
    return CliError(EXIT_ERROR, exc.code, str(exc))


# --- commands -------------------------------------------------------------------------------


def _normalise_digits(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def install_config_source(explicit: Path | None, environ: dict[str, str]) -> tuple[Path, str]:
    """install_source.install_config_source, with the shipped file looked up here at call
    time (so replacing ``shipped_install_config_path`` on this module takes effect)."""
    return _install_config_source(explicit, environ, shipped=shipped_install_config_path())


def install_config_path(explicit: Path | None, environ: dict[str, str]) -> Path:
    return install_config_source(explicit, environ)[0]


def load_install_config(path: Path, msg: Messages) -> InstallConfig:
    from netbank.token_app.install_config import InstallConfigError, install_config_load

    if not path.is_file():
        raise CliError(
            EXIT_NOT_FOUND,
            "install_config_missing",
            msg("err_install_config", detail=str(path)),
        )
    try:
        return install_config_load(path)
    except InstallConfigError as exc:
        raise CliError(
            EXIT_USAGE, "install_config_invalid", msg("err_install_config", detail=str(exc))
        ) from None


def check_label(label: str, msg: Messages) -> str:
    label = unicodedata.normalize("NFC", label).strip()
    if not (1 <= len(label) <= LABEL_MAX) or any(unicodedata.category(c)[0] == "C" for c in label):
        raise CliError(EXIT_USAGE, "label_invalid", msg("err_label_invalid"))
    return label


def activation_error(exc: Exception, msg: Messages) -> CliError:
    """Map the protocol client's errors to exit codes and plain words."""
    from netbank.token_app import client

    if isinstance(exc, client.InvalidInputError):
        return CliError(EXIT_USAGE, "invalid_input", msg.pick(exc.message, exc.message_en))
    if isinstance(exc, client.ActivationRefusedError):
        if exc.code == "throttled":
            return CliError(EXIT_SERVER, "throttled", msg("err_throttled"))
        if exc.code == "activation_failed":
            text = "\n".join(
                [
                    msg("err_activation_refused"),
                    msg("activation_void_hint"),
                    msg("helpdesk_generic"),
                ]
            )
            return CliError(EXIT_REFUSED, "activation_failed", text)
        detail = msg.pick(exc.message, exc.message_en) or exc.code
        return CliError(
            EXIT_REFUSED,
            exc.code,
            msg("err_activation_refused") + "\n" + detail,
            http_status=exc.status,
        )
    if isinstance(exc, client.UntrustedAnswerError):
        return CliError(
            EXIT_SERVER,
            "untrusted_answer",
            msg("err_untrusted"),
            detail=exc.message_en,
        )
    if isinstance(exc, client.TransportError):
        return CliError(
            EXIT_SERVER, "server_unreachable", msg("err_network"), detail=exc.message_en
        )
    if isinstance(exc, client.ActivationError):
        return CliError(EXIT_SERVER, "protocol_error", msg.pick(exc.message, exc.message_en))
    raise exc


def token_record_from(
    activated: ActivatedToken,
    *,
    label: str,
    config: InstallConfig,
    now: float,
    boot: BootClock | None = None,
) -> TokenRecord:
    return TokenRecord(
        label=label,
        bank_url=config.bank_url,
        bank_name=config.bank_name,
        service_id=activated.service_id,
        user_id=activated.user_id,
        seed=activated.seed,
        signing_key=activated.signing_key,
        algorithm=activated.algorithm,
        digits=activated.digits,
        period=activated.period,
        server_time_offset=float(activated.server_time_offset),
        added_at=now,
        time_checked_at=now,
        clock_boot_id=boot.boot_id if boot else "",
        clock_wall_at_boot=now - boot.seconds_since_boot if boot else 0.0,
    )


def default_label(config: InstallConfig, service_id: str) -> str:
    return config.bank_name.strip()[:LABEL_MAX] or f"{service_id}"


def cmd_setup(run: Run) -> int:
    from netbank.oath import activation as proto

    msg, args = run.msg, run.args
    try:
        service_id = proto.check_service_id(_normalise_digits(args.service_id))
    except proto.ActivationError:
        raise CliError(EXIT_USAGE, "invalid_service_id", msg("err_service_id")) from None
    try:
        user_id = proto.check_user_id(_normalise_digits(args.user_id))
    except proto.ActivationError:
        raise CliError(EXIT_USAGE, "invalid_user_id", msg("err_user_id")) from None
    label = check_label(args.label, msg) if args.label is not None else None
    config_path, source = install_config_source(args.bank_config, run.env.environ)
    if source in DEVELOPMENT_SOURCES:
        # Always on stderr, also with --json: whoever set it can point the app anywhere.
        run.env.stderr.write(msg("warn_dev_config", source=source) + "\n")
    config = load_install_config(config_path, msg)
    from netbank.token_app.install_config import BankKeyExpiredConfigError

    try:
        key_lines = bank_key_lines(config, run.env.clock(), msg)
    except BankKeyExpiredConfigError as exc:
        raise CliError(
            EXIT_USAGE, "bank_key_expired", msg("err_bank_key_expired", detail=str(exc))
        ) from None
    for line in key_lines:
        run.say(line)
    if config.service_id and config.service_id != service_id:
        # The bank would refuse it anyway; saying so here spends none of the five tries.
        raise CliError(
            EXIT_USAGE,
            "service_id_other_bank",
            msg(
                "err_service_id_other_bank",
                bank=config.bank_name or config.bank_url,
                expected=config.service_id,
            ),
        )

    if args.password_stdin:
        password = run.stdin_line(msg("activation_password"))
    else:
        password = run.ask_secret("prompt_password", msg("activation_password"))
    try:
        proto.activation_password_bytes(password)
    except proto.ActivationError:
        raise CliError(EXIT_USAGE, "invalid_password", msg("err_activation_password")) from None

    try:
        client = run.env.client_factory(config)
    except ValueError as exc:  # e.g. a plain-http bank URL that is not this machine
        raise CliError(
            EXIT_USAGE, "install_config_invalid", msg("err_install_config", detail=str(exc))
        ) from None

    # The app lock comes first, so a PIN problem never strands a token the bank
    # already counts as activated: unlock the vault, or create an empty one.
    vault = run.vault()
    created = False
    if vault.exists():
        opened = run.unlock(vault)
    else:
        pin = run.read_new_pin(new_vault_store_kind())
        try:
            opened = vault.create(pin, [])
        except VaultError as exc:
            raise vault_error(exc, msg, run.env.clock()) from None
        created = True

    try:
        activated = client.activate(service_id, user_id, password)
    except Exception as exc:
        if created:
            vault.wipe()  # nothing was stored: leave the machine as it was
        raise activation_error(exc, msg) from None

    now = run.env.clock()
    chosen = label or opened.unique_label(default_label(config, service_id))
    record = token_record_from(
        activated, label=chosen, config=config, now=now, boot=run.env.boot_clock()
    )
    try:
        opened.add(record)
    except ValueError:
        raise CliError(EXIT_USAGE, "label_taken", msg("err_label_taken", name=chosen)) from None
    except VaultError as exc:
        raise vault_error(exc, msg, now) from None
    except OSError as exc:
        raise CliError(EXIT_ERROR, "vault_io", msg("err_vault_io", detail=exc.strerror)) from None

    view = code_view(record, now)
    run.say(msg("setup_done", label=record.label))
    run.say(msg("code_line", code=view.code, seconds=int(view.seconds_left)))
    run.say(msg("setup_next"))
    warn_clock_skew(run, view)
    run.result(
        {
            "token": _token_json(record),
            "code": view.code,
            "seconds_left": int(view.seconds_left),
            "clock_skew_seconds": round(view.skew_seconds, 1),
            "clock_skew_warning": view.skew_warning,
            "device_secret": opened.device_secret_kind,
            "install_config": {
                "source": source,
                "development_only": source in DEVELOPMENT_SOURCES,
                "bank_keys": [
                    {"key_id": k.key_id, "fingerprint": k.fingerprint, "not_after": k.not_after}
                    for k in config.keys_at(run.env.clock())
                ],
            },
        }
    )
    return EXIT_OK


def _token_json(token: TokenRecord) -> dict[str, Any]:
    return {
        "label": token.label,
        "bank_name": token.bank_name,
        "bank_url": token.bank_url,
        "service_id": token.service_id,
        "user_id": token.user_id,
        "algorithm": token.algorithm,
        "digits": token.digits,
        "period": token.period,
        "clock_skew_seconds": round(token.server_time_offset, 1),
    }


def current_view(run: Run, token: TokenRecord) -> CodeView:
    """The code now, with the skew less any change of the device clock since the offset
    was measured (so a clock set wrong after 初期設定 is warned about, offline too)."""
    now = run.env.clock()
    moved = clock_moved(
        boot_id=token.clock_boot_id,
        wall_at_boot=token.clock_wall_at_boot,
        now=now,
        boot=run.env.boot_clock(),
    )
    return code_view(token, now, moved=moved)


def warn_clock_skew(run: Run, view: CodeView) -> None:
    if view.skew_warning:
        key, seconds = clock_skew_text(view.skew_seconds)
        run.warn(run.msg(key, seconds=seconds))


def cmd_code(run: Run) -> int:
    opened = run.unlock(run.vault())
    token = run.find(opened, run.args.token)
    view = current_view(run, token)
    run.say(view.code)
    run.warn(run.msg("seconds_left", seconds=int(view.seconds_left)))
    warn_clock_skew(run, view)
    run.result(
        {
            "label": token.label,
            "code": view.code,
            "seconds_left": int(view.seconds_left),
            "period": view.period,
            "clock_skew_seconds": round(view.skew_seconds, 1),
            "clock_skew_warning": view.skew_warning,
        }
    )
    return EXIT_OK


def cmd_list(run: Run) -> int:
    opened = run.unlock(run.vault())
    if not opened.tokens:
        run.say(run.msg("list_empty"))
    for token in opened.tokens:
        bank = token.bank_name or token.bank_url
        run.say(
            f"{token.label}\t{run.msg('service_id')}: {token.service_id}\t"
            f"{run.msg('user_id')}: {token.user_id}\t{bank}"
        )
    run.result({"tokens": [_token_json(t) for t in opened.tokens]})
    return EXIT_OK


def cmd_remove(run: Run) -> int:
    opened = run.unlock(run.vault())
    token = run.find(opened, run.args.token)
    if not run.args.yes:
        if run.as_json:
            raise CliError(EXIT_USAGE, "confirm_needs_yes", run.msg("err_confirm_needs_yes"))
        run.env.stderr.write(run.msg("remove_confirm", label=token.label) + "\n")
        try:
            answer = str(run.env.prompt(run.msg("prompt_remove"), secret=False))
        except EOFError:
            raise CliError(
                EXIT_USAGE, "confirm_needs_yes", run.msg("err_confirm_needs_yes")
            ) from None
        if answer.strip().lower() not in ("y", "yes", "はい"):
            run.say(run.msg("cancelled"))
            return EXIT_OK
    try:
        opened.remove(token.label)
    except VaultError as exc:
        raise vault_error(exc, run.msg, run.env.clock()) from None
    run.say(run.msg("removed", label=token.label))
    run.result({"removed": token.label})
    return EXIT_OK


def cmd_pin(run: Run) -> int:
    opened = run.unlock(run.vault())
    new_pin = run.read_new_pin(opened.device_secret_kind)
    try:
        opened.change_pin(new_pin)
    except VaultError as exc:
        raise vault_error(exc, run.msg, run.env.clock()) from None
    run.say(run.msg("pin_changed"))
    run.result({})
    return EXIT_OK


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


if __name__ == "__main__":
    raise SystemExit(main())
