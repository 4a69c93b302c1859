"""``netbank-token setup``: 初期設定 (activate a token at the bank and keep it in the vault)."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from netbank.token_app.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_SERVER,
    EXIT_USAGE,
    CliError,
    Run,
    _token_json,
    vault_error,
    warn_clock_skew,
)
from netbank.token_app.codes import code_view
from netbank.token_app.devicesecret import new_vault_store_kind
from netbank.token_app.install_source import DEVELOPMENT_SOURCES, bank_key_lines
from netbank.token_app.messages import Messages
from netbank.token_app.timecheck import BootClock
from netbank.token_app.vault import LABEL_MAX, TokenRecord, VaultError

if TYPE_CHECKING:
    from netbank.token_app.client import ActivatedToken
    from netbank.token_app.install_config import InstallConfig


def _normalise_digits(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


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
    # Through the package, at call time: that is where the source can be replaced.
    from netbank.token_app import cli

    config_path, source = cli.install_config_source(args.bank_config, run.env.environ)
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
    run.say(msg("code_line", code=view.code, seconds=view.whole_seconds_left))
    run.say(msg("setup_next"))
    warn_clock_skew(run, view)
    run.result(
        {
            "token": _token_json(record),
            "code": view.code,
            "seconds_left": view.whole_seconds_left,
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
