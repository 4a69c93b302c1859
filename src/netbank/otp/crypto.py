"""The one envelope for secrets at rest: AES-256-GCM under a key-encryption key (KEK).

KEKs come from settings.NETBANK_OTP_KEYS ("kid:base64key,kid:base64key"); the first
one seals, all of them unseal, so keys rotate by putting a new one first and running
`netbank rotate-otp-key`. The AAD binds a ciphertext to the row it belongs to: for
token values their purpose, token id and customer id (``seal``/``unseal``); other
owners (helpdesk operators' TOTP seeds) give their own AAD to ``seal_bound``/
``unseal_bound``. A row copied onto another token, customer or operator fails to unseal.

Every table that stores such values describes its columns as ``SealedColumn``s, and
``sealed_column_rotate`` re-seals any of them, so one rotation routine covers them all.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

from netbank.config.env import is_production, local_secret


class SealError(Exception):
    """A sealed value could not be opened (wrong key, wrong row, or tampered)."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


# Parsed once per value of the setting: every seal and unseal (each OTP verification) asks
# for the key ring, and parsing it cost about 20 µs a time. A changed setting (a test, a
# key rotation's redeploy) is a new key; a bad value raises and is not kept.
@functools.lru_cache(maxsize=8)
def _parse_keys(raw: str) -> tuple[tuple[str, bytes], ...]:
    keys: list[tuple[str, bytes]] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        kid, sep, b64 = part.partition(":")
        if not sep or not kid:
            raise ImproperlyConfigured("NETBANK_OTP_KEYS entries must look like kid:base64key")
        try:
            key = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise ImproperlyConfigured(f"NETBANK_OTP_KEYS key {kid!r} is not base64") from exc
        if len(key) != 32:
            raise ImproperlyConfigured(f"NETBANK_OTP_KEYS key {kid!r} must be 32 bytes")
        if any(kid == seen for seen, _ in keys):
            raise ImproperlyConfigured(f"NETBANK_OTP_KEYS names key {kid!r} twice")
        keys.append((kid, key))
    return tuple(keys)


def keyring() -> list[tuple[str, bytes]]:
    """All KEKs, the sealing one first. Development generates one into the data folder."""
    raw = settings.NETBANK_OTP_KEYS
    if not raw:
        if is_production():
            raise ImproperlyConfigured("NETBANK_OTP_KEYS must be set in production")
        raw = (
            "local1:"
            + base64.b64encode(
                base64.urlsafe_b64decode(local_secret("otp_kek", 32) + "==")[:32]
            ).decode()
        )
    keys = _parse_keys(raw)
    if not keys:
        raise ImproperlyConfigured("NETBANK_OTP_KEYS holds no key")
    return list(keys)


def current_key_id() -> str:
    return keyring()[0][0]


def token_aad(purpose: str, token_id: int, customer_id: int) -> bytes:
    """The AAD of a value sealed for a token (``seal``/``unseal``)."""
    return f"netbank-otp|{purpose}|token={token_id}|customer={customer_id}".encode()


def seal_bound(*, aad: bytes, plaintext: bytes) -> Sealed:
    """Seal ``plaintext`` under the current KEK, bound to ``aad`` (names its row)."""
    kid, key = keyring()[0]
    nonce = os.urandom(12)
    return Sealed(kid, nonce, AESGCM(key).encrypt(nonce, plaintext, aad))


def unseal_bound(*, aad: bytes, key_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
    """Open a value sealed by ``seal_bound`` with the same ``aad``; SealError if not."""
    key = dict(keyring()).get(key_id)
    if key is None:
        raise SealError(f"no key-encryption key with id {key_id!r}")
    try:
        return AESGCM(key).decrypt(bytes(nonce), bytes(ciphertext), aad)
    except InvalidTag as exc:
        raise SealError("sealed value does not open for this row") from exc


def seal(*, purpose: str, token_id: int, customer_id: int, plaintext: bytes) -> Sealed:
    return seal_bound(aad=token_aad(purpose, token_id, customer_id), plaintext=plaintext)


def unseal(
    *,
    purpose: str,
    token_id: int,
    customer_id: int,
    key_id: str,
    nonce: bytes,
    ciphertext: bytes,
) -> bytes:
    return unseal_bound(
        aad=token_aad(purpose, token_id, customer_id),
        key_id=key_id,
        nonce=nonce,
        ciphertext=ciphertext,
    )


# --- sealed columns and their rotation ---------------------------------------------


@dataclass(frozen=True)
class SealedColumn:
    """One sealed value per row of ``model``: ``<prefix>_key_id``, ``<prefix>_nonce`` and
    ``<prefix>_ciphertext``, bound to the AAD that ``aad`` makes of the row."""

    label: str
    model: type[models.Model]
    prefix: str
    aad: Callable[[Any], bytes]
    related: tuple[str, ...] = ()


def sealed_column_stale(column: SealedColumn, current: str) -> models.QuerySet[Any]:
    """The column's rows sealed under a key other than ``current``."""
    p = column.prefix
    return (
        column.model._default_manager.exclude(**{f"{p}_key_id": current})
        .exclude(**{f"{p}_key_id": ""})
        .exclude(**{f"{p}_ciphertext__isnull": True})
    )


def sealed_column_rotate(
    column: SealedColumn,
    *,
    current: str,
    batch_size: int,
    progress: Callable[[int], None] = lambda _n: None,
    broken_row: Callable[[Any, SealError], None] = lambda _row, _exc: None,
) -> tuple[int, int]:
    """Re-seal the column's stale rows under ``current``, in batches of one transaction
    each (resumable). Returns (re-sealed, could not be opened); a row that does not
    open is reported to ``broken_row`` and left as it is."""
    p = column.prefix
    done = broken = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            # Lock the batch: a concurrent activation or verification of these rows
            # waits, and sees either the old or the new ciphertext, never a mix.
            rows = list(
                sealed_column_stale(column, current)
                .filter(pk__gt=last_pk)
                .select_related(*column.related)
                .select_for_update(of=("self",) if column.related else ())
                .order_by("pk")[:batch_size]
            )
            if not rows:
                return done, broken
            for row in rows:
                aad = column.aad(row)
                try:
                    plaintext = unseal_bound(
                        aad=aad,
                        key_id=getattr(row, f"{p}_key_id"),
                        nonce=bytes(getattr(row, f"{p}_nonce") or b""),
                        ciphertext=bytes(getattr(row, f"{p}_ciphertext")),
                    )
                except SealError as exc:
                    broken += 1
                    broken_row(row, exc)
                    continue
                sealed = seal_bound(aad=aad, plaintext=plaintext)
                column.model._default_manager.filter(pk=row.pk).update(
                    **{
                        f"{p}_key_id": sealed.key_id,
                        f"{p}_nonce": sealed.nonce,
                        f"{p}_ciphertext": sealed.ciphertext,
                    }
                )
                done += 1
            last_pk = rows[-1].pk
        progress(done + broken)
