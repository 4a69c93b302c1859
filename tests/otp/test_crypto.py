"""Sealing secrets at rest (otp.crypto): AES-GCM, key ids, AAD bound to the row."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from netbank.otp import crypto

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()


def _sealed(**kw: object) -> crypto.Sealed:
    args: dict[str, object] = {
        "purpose": "token-secret",
        "token_id": 7,
        "customer_id": 3,
        "plaintext": b"seed-and-signing-key",
    }
    args.update(kw)
    return crypto.seal(**args)  # type: ignore[arg-type]


def _open(sealed: crypto.Sealed, **kw: object) -> bytes:
    args: dict[str, object] = {
        "purpose": "token-secret",
        "token_id": 7,
        "customer_id": 3,
        "key_id": sealed.key_id,
        "nonce": sealed.nonce,
        "ciphertext": sealed.ciphertext,
    }
    args.update(kw)
    return crypto.unseal(**args)  # type: ignore[arg-type]


def test_sealed_value_opens_for_its_own_row() -> None:
    sealed = _sealed()
    assert b"seed" not in sealed.ciphertext
    assert _open(sealed) == b"seed-and-signing-key"


def test_every_seal_uses_a_fresh_nonce() -> None:
    assert _sealed().nonce != _sealed().nonce


@pytest.mark.parametrize(
    "other_row",
    [{"token_id": 8}, {"customer_id": 4}, {"purpose": "activation-password"}],
    ids=["another-token", "another-customer", "another-purpose"],
)
def test_sealed_value_copied_onto_another_row_fails_to_open(other_row: dict[str, object]) -> None:
    with pytest.raises(crypto.SealError):
        _open(_sealed(), **other_row)


def test_tampered_ciphertext_fails_to_open() -> None:
    sealed = _sealed()
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(crypto.SealError):
        _open(sealed, ciphertext=flipped)


def test_unknown_key_id_fails_to_open() -> None:
    with pytest.raises(crypto.SealError, match="no key-encryption key"):
        _open(_sealed(), key_id="gone")


def test_first_key_seals_and_every_listed_key_opens() -> None:
    with override_settings(NETBANK_OTP_KEYS=f"old:{KEY_A}"):
        old = _sealed()
    with override_settings(NETBANK_OTP_KEYS=f"new:{KEY_B},old:{KEY_A}"):
        assert crypto.current_key_id() == "new"
        assert _sealed().key_id == "new"
        assert _open(old) == b"seed-and-signing-key"
    with override_settings(NETBANK_OTP_KEYS=f"new:{KEY_B}"), pytest.raises(crypto.SealError):
        _open(old)


@pytest.mark.parametrize(
    "raw",
    [
        "nokid",
        ":" + KEY_A,
        "a:not-base64!",
        "a:" + base64.b64encode(b"short").decode(),
        f"a:{KEY_A},a:{KEY_B}",
        " , ",
    ],
    ids=["no-colon", "empty-id", "bad-base64", "short-key", "duplicate-id", "empty"],
)
def test_malformed_key_configuration_fails_loudly(raw: str) -> None:
    with override_settings(NETBANK_OTP_KEYS=raw), pytest.raises(ImproperlyConfigured):
        crypto.keyring()
