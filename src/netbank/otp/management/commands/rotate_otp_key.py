"""``netbank rotate-otp-key``: re-encrypt every sealed secret under the current key.

Key rotation: put the new key first in NETBANK_OTP_KEYS (keeping the old ones after
it), restart the app, run this command, then remove the old keys. It only touches rows
whose key id differs from the current one, in batches of one transaction each, so it
can be stopped at any moment and run again to continue. ``--check`` only counts.

Other tables seal under the same key ring (the one envelope, ``otp.crypto``) with their
own AAD, and describe their columns with a ``sealed_columns()`` class method on the model
(helpdesk operators' TOTP seeds). ``--all`` re-seals those too in the same run, with the
same routine (``crypto.sealed_column_rotate``); without it they are left to their own
command (``rotate-operator-otp-key``), which runs that routine on its table alone.
Before calling an old key removable, and in ``--check``, every sealed column in the
schema is counted: any model field pair ``<x>_key_id`` / ``<x>_ciphertext``
(``sealed_key_columns``), so a table added later cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models

from netbank.otp import crypto, token_secret
from netbank.otp.activation.services import ACTIVATION_PASSWORD_PURPOSE, EPHEMERAL_PURPOSE
from netbank.otp.models import ActivationSession, Token

SealedColumn = crypto.SealedColumn


def _token_aad(purpose: str) -> Callable[[Token], bytes]:
    return lambda t: crypto.token_aad(purpose, t.pk, t.customer_id)


SEALED_COLUMNS = (
    SealedColumn("token seeds", Token, "secret", _token_aad(token_secret.PURPOSE)),
    SealedColumn(
        "activation passwords", Token, "activation", _token_aad(ACTIVATION_PASSWORD_PURPOSE)
    ),
    SealedColumn(
        "activation ephemeral keys",
        ActivationSession,
        "ephemeral",
        lambda s: crypto.token_aad(EPHEMERAL_PURPOSE, s.token_id, s.token.customer_id),
        related=("token",),
    ),
)


def other_sealed_columns() -> list[crypto.SealedColumn]:
    """Sealed columns that other apps declare (``Model.sealed_columns()``)."""
    found: list[crypto.SealedColumn] = []
    for model in apps.get_models():
        declare = getattr(model, "sealed_columns", None)
        if callable(declare):
            found.extend(declare())
    return found


@dataclass(frozen=True)
class SealedKeyColumn:
    """A key-id column of any table that holds values sealed under the key ring."""

    model: type[models.Model]
    prefix: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label} {self.prefix}"


# Sealed columns this command does not re-encrypt itself, and the command that does.
OTHER_ROTATION_COMMANDS = {
    "helpdesk.OperatorCredential": (
        "netbank rotate-operator-otp-key (helpdesk operator seeds), or rotate-otp-key --all"
    )
}


def sealed_key_columns() -> list[SealedKeyColumn]:
    """Every ``<x>_key_id`` with a ``<x>_ciphertext`` beside it, in every installed model."""
    found = []
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        for name in sorted(names):
            prefix = name.removesuffix("_key_id")
            if name.endswith("_key_id") and f"{prefix}_ciphertext" in names:
                found.append(SealedKeyColumn(model, prefix))
    return found


def _stale_rows(model: type[models.Model], prefix: str, current: str) -> models.QuerySet[Any]:
    return crypto.sealed_column_stale(SealedColumn("", model, prefix, bytes), current)


def _stale(column: SealedColumn, current: str) -> models.QuerySet[Any]:
    """Rows sealed under a key other than ``current``."""
    return crypto.sealed_column_stale(column, current)


def old_keys_in_use(current: str) -> dict[str, set[str]]:
    """For each sealed column of the schema with rows not under ``current``: their key ids."""
    used: dict[str, set[str]] = {}
    for column in sealed_key_columns():
        ids = set(
            _stale_rows(column.model, column.prefix, current)
            .values_list(f"{column.prefix}_key_id", flat=True)
            .distinct()
        )
        if ids:
            used[column.label] = ids
    return used


class Command(BaseCommand):
    help = (
        "Re-encrypt sealed OTP secrets under the first key of NETBANK_OTP_KEYS, in "
        "resumable batches (one transaction each). Run again to continue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument(
            "--check", action="store_true", help="only count rows not yet under the current key"
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help="also re-seal the sealed columns of other apps (helpdesk operator seeds)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        current = crypto.current_key_id()
        columns = [*SEALED_COLUMNS, *(other_sealed_columns() if options["all"] else [])]
        remaining = {c.label: _stale(c, current).count() for c in columns}
        if options["check"]:
            for label, count in remaining.items():
                self.stdout.write(f"{label}: {count} not under key {current!r}")
            elsewhere = self._report_other_tables(current, columns)
            if any(remaining.values()) or elsewhere:
                raise CommandError("some sealed values still use an older key")
            self._report_unused_keys(current)
            return

        failed = 0
        for column in columns:
            done, broken = self._rotate(column, current, batch_size, remaining[column.label])
            failed += broken
            self.stdout.write(
                f"{column.label}: {done} re-encrypted under {current!r}"
                + (f", {broken} could not be opened" if broken else "")
            )
        if failed:
            raise CommandError(
                f"{failed} sealed values could not be opened with any configured key; "
                "they were left unchanged (see the log lines above)"
            )
        self._report_other_tables(current, columns)
        self._report_unused_keys(current)

    def _rotate(
        self, column: SealedColumn, current: str, batch_size: int, total: int
    ) -> tuple[int, int]:
        return crypto.sealed_column_rotate(
            column,
            current=current,
            batch_size=batch_size,
            progress=lambda n: self.stdout.write(f"{column.label}: {n}/{total}"),
            broken_row=lambda row, exc: self.stderr.write(f"{column.label}: row {row.pk}: {exc}"),
        )

    def _report_other_tables(self, current: str, columns: list[SealedColumn]) -> bool:
        """Name the tables (outside this command's own) still under an older key."""
        own = {f"{c.model._meta.label} {c.prefix}" for c in columns}
        others = {label: ids for label, ids in old_keys_in_use(current).items() if label not in own}
        for label, ids in sorted(others.items()):
            model = label.split(" ")[0]
            how = OTHER_ROTATION_COMMANDS.get(model, "its own re-sealing step")
            self.stdout.write(
                f"{label}: still sealed under {', '.join(repr(k) for k in sorted(ids))}; run {how}"
            )
        return bool(others)

    def _report_unused_keys(self, current: str) -> None:
        old = [kid for kid, _ in crypto.keyring()[1:]]
        in_use = set().union(*old_keys_in_use(current).values())
        removable = [kid for kid in old if kid not in in_use]
        kept = [kid for kid in old if kid in in_use]
        if kept:
            self.stdout.write(
                "Keys "
                + ", ".join(repr(k) for k in kept)
                + " are still in use (see above) and must stay in NETBANK_OTP_KEYS."
            )
        if removable:
            self.stdout.write(
                "Keys "
                + ", ".join(repr(k) for k in removable)
                + " can be removed from NETBANK_OTP_KEYS once sign-in forms opened before "
                "the rotation have expired (their drafts are sealed in the session): no "
                f"sealed value in any table uses them (the current key is {current!r})."
            )
