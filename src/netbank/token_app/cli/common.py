"""What every ``netbank-token`` command shares: exit codes, the environment, one run
(input, the vault, output) and the customer-facing words for a vault refusal."""

from __future__ import annotations

import argparse
import getpass as getpass_module
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from netbank.token_app.codes import CodeView, clock_skew_text, code_view
from netbank.token_app.launch import open_in_browser
from netbank.token_app.messages import Messages
from netbank.token_app.paths import default_vault_path
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
    from netbank.token_app.install_config import InstallConfig

EXIT_OK = 0
EXIT_ERROR = 1  # unexpected: the vault could not be written, a bug
EXIT_USAGE = 2  # bad arguments or input (argparse uses 2 as well)
EXIT_LOCKED = 3  # app lock: wrong PIN, waiting after wrong PINs, vault wiped
EXIT_SERVER = 4  # the bank unreachable, or its answer garbage or not signed by the bank
EXIT_NOT_FOUND = 5  # no vault, no such token, no install configuration
EXIT_VAULT_REFUSED = 6  # the vault is tampered with, from another device, or changed meanwhile
EXIT_REFUSED = 7  # the bank refused: activation (wrong 利用開始パスワード, void) or Directログイン
EXIT_INTERRUPTED = 130


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
