"""``netbank rotate-otp-key``: re-encrypt every sealed secret under the current key.

Key rotation: put the new key first in NETBANK_OTP_KEYS (keeping the old ones after
it), restart the app, run this command, then remove the old keys. It only touches rows
whose key id differs from the current one, in batches of one transaction each, so it
can be stopped at any moment and run again to continue. ``--check`` only counts.

Other tables seal under the same key ring with their own AAD and their own command
(helpdesk operators' TOTP seeds: ``rotate-operator-otp-key``). Before calling an old key
removable, and in ``--check``, every sealed column in the schema is counted: any model
field pair ``<x>_key_id`` / ``<x>_ciphertext`` (``sealed_key_columns``), so a table added
later cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction

from netbank.otp import crypto
from netbank.otp.activation.services import ACTIVATION_PASSWORD_PURPOSE, EPHEMERAL_PURPOSE
from netbank.otp.models import ActivationSession, Token
from netbank.otp.verification import SEED_PURPOSE


@dataclass(frozen=True)
class SealedColumn:
    """One sealed value per row: its model, purpose, field prefix and AAD ids."""

    label: str
    model: type[models.Model]
    purpose: str
    prefix: str  # <prefix>_key_id, <prefix>_nonce, <prefix>_ciphertext
    ids: Callable[[Any], tuple[int, int]]  # row -> (token id, customer id) of the AAD
    related: tuple[str, ...] = ()


SEALED_COLUMNS = (
    SealedColumn("token seeds", Token, SEED_PURPOSE, "secret", lambda t: (t.pk, t.customer_id)),
    SealedColumn(
        "activation passwords",
        Token,
        ACTIVATION_PASSWORD_PURPOSE,
        "activation",
        lambda t: (t.pk, t.customer_id),
    ),
    SealedColumn(
        "activation ephemeral keys",
        ActivationSession,
        EPHEMERAL_PURPOSE,
        "ephemeral",
        lambda s: (s.token_id, s.token.customer_id),
        related=("token",),
    ),
)


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
    "helpdesk.OperatorCredential": "netbank rotate-operator-otp-key (helpdesk operator seeds)"
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
    return (
        model._default_manager.exclude(**{f"{prefix}_key_id": current})
        .exclude(**{f"{prefix}_key_id": ""})
        .exclude(**{f"{prefix}_ciphertext__isnull": True})
    )


def _stale(column: SealedColumn, current: str) -> models.QuerySet[Any]:
    """Rows sealed under a key other than ``current``."""
    return _stale_rows(column.model, column.prefix, current)


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

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        current = crypto.current_key_id()
        remaining = {c.label: _stale(c, current).count() for c in SEALED_COLUMNS}
        if options["check"]:
            for label, count in remaining.items():
                self.stdout.write(f"{label}: {count} not under key {current!r}")
            elsewhere = self._report_other_tables(current)
            if any(remaining.values()) or elsewhere:
                raise CommandError("some sealed values still use an older key")
            self._report_unused_keys(current)
            return

        failed = 0
        for column in SEALED_COLUMNS:
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
        self._report_other_tables(current)
        self._report_unused_keys(current)

    def _rotate(
        self, column: SealedColumn, current: str, batch_size: int, total: int
    ) -> tuple[int, int]:
        p = column.prefix
        done = broken = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                # Lock the batch: a concurrent activation or verification of these rows
                # waits, and sees either the old or the new ciphertext, never a mix.
                rows = list(
                    _stale(column, current)
                    .filter(pk__gt=last_pk)
                    .select_related(*column.related)
                    .select_for_update(of=("self",) if column.related else ())
                    .order_by("pk")[:batch_size]
                )
                if not rows:
                    return done, broken
                for row in rows:
                    token_id, customer_id = column.ids(row)
                    try:
                        plaintext = crypto.unseal(
                            purpose=column.purpose,
                            token_id=token_id,
                            customer_id=customer_id,
                            key_id=getattr(row, f"{p}_key_id"),
                            nonce=bytes(getattr(row, f"{p}_nonce") or b""),
                            ciphertext=bytes(getattr(row, f"{p}_ciphertext")),
                        )
                    except crypto.SealError as exc:
                        broken += 1
                        self.stderr.write(f"{column.label}: row {row.pk}: {exc}")
                        continue
                    sealed = crypto.seal(
                        purpose=column.purpose,
                        token_id=token_id,
                        customer_id=customer_id,
                        plaintext=plaintext,
                    )
                    column.model._default_manager.filter(pk=row.pk).update(
                        **{
                            f"{p}_key_id": sealed.key_id,
                            f"{p}_nonce": sealed.nonce,
                            f"{p}_ciphertext": sealed.ciphertext,
                        }
                    )
                    done += 1
                last_pk = rows[-1].pk
            self.stdout.write(f"{column.label}: {done + broken}/{total}")

    def _report_other_tables(self, current: str) -> bool:
        """Name the tables (outside this command's own) still under an older key."""
        own = {f"{c.model._meta.label} {c.prefix}" for c in SEALED_COLUMNS}
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
