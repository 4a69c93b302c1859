"""Sealing token secrets at rest: AES-256-GCM under a key-encryption key (KEK).

KEKs come from settings.NETBANK_OTP_KEYS ("kid:base64key,kid:base64key"); the first
one seals, all of them unseal, so keys rotate by putting a new one first and running
`netbank rotate-otp-key`. The AAD binds a ciphertext to its purpose, token id and
customer id: a row copied onto another token or customer fails to unseal.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from netbank.config.env import is_production, local_secret


class SealError(Exception):
    """A sealed value could not be opened (wrong key, wrong row, or tampered)."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


def _parse_keys(raw: str) -> list[tuple[str, bytes]]:
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
    return keys


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
    return keys


def current_key_id() -> str:
    return keyring()[0][0]


def _aad(purpose: str, token_id: int, customer_id: int) -> bytes:
    return f"netbank-otp|{purpose}|token={token_id}|customer={customer_id}".encode()


def seal(*, purpose: str, token_id: int, customer_id: int, plaintext: bytes) -> Sealed:
    kid, key = keyring()[0]
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, plaintext, _aad(purpose, token_id, customer_id))
    return Sealed(kid, nonce, ct)


def unseal(
    *,
    purpose: str,
    token_id: int,
    customer_id: int,
    key_id: str,
    nonce: bytes,
    ciphertext: bytes,
) -> bytes:
    keys = dict(keyring())
    key = keys.get(key_id)
    if key is None:
        raise SealError(f"no key-encryption key with id {key_id!r}")
    try:
        return AESGCM(key).decrypt(
            bytes(nonce), bytes(ciphertext), _aad(purpose, token_id, customer_id)
        )
    except InvalidTag as exc:
        raise SealError("sealed value does not open for this row") from exc
