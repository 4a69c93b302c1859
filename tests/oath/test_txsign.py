"""The transaction-signing key's per-purpose subkeys (HKDF), shared by bank and app."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from netbank.oath.errors import OathError
from netbank.oath.txsign import (
    ocra_key,
    pending_mac,
    pending_mac_key,
    pending_mac_message,
    signing_subkey,
)

KEY = bytes(range(32))
FIELDS = {"service_id": "100001", "user_id": "123456789012", "time": "1780000000"}


def test_the_two_subkeys_differ_from_each_other_and_from_the_stored_key() -> None:
    assert len({ocra_key(KEY), pending_mac_key(KEY), KEY}) == 3
    assert len(ocra_key(KEY)) == len(pending_mac_key(KEY)) == 32


@settings(deadline=None, max_examples=50)
@given(key=st.binary(min_size=32, max_size=32))
def test_subkeys_differ_for_every_key(key: bytes) -> None:
    assert ocra_key(key) != pending_mac_key(key)


def test_subkeys_are_rfc5869_hkdf_with_the_documented_labels() -> None:
    """Written out from docs/protocols.md, so a phone app can match it byte for byte."""

    def hkdf(info: bytes) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"netbank-transaction-signing/2",
            info=info,
        ).derive(KEY)

    assert ocra_key(KEY) == hkdf(b"ocra-signing-question\x00")
    assert pending_mac_key(KEY) == hkdf(b"pending-question-mac\x00")
    # Pinned (docs/protocols.md), so the derivation cannot change unnoticed.
    assert ocra_key(KEY).hex() == (
        "befc8a8b2dbe014c636ab1fbbb9e82d1984c11d56f7b8df7b89f56c5d44fab9b"
    )
    assert pending_mac_key(KEY).hex() == (
        "324153356f2c5b058663b76326ddcaaed48456f08e66389e0d78a8adce7cf042"
    )


def test_a_mac_made_with_the_ocra_key_is_not_a_pending_question_mac() -> None:
    message = pending_mac_message(**FIELDS)
    forged = hmac.new(ocra_key(KEY), message, hashlib.sha256).digest()
    raw = hmac.new(KEY, message, hashlib.sha256).digest()  # the old, undivided key
    genuine = pending_mac(KEY, **FIELDS)
    assert genuine == hmac.new(pending_mac_key(KEY), message, hashlib.sha256).digest()
    assert not hmac.compare_digest(forged, genuine)
    assert not hmac.compare_digest(raw, genuine)


@pytest.mark.parametrize("key", [b"", bytes(31), bytes(33), "x" * 32])
def test_a_key_of_the_wrong_size_is_refused(key: bytes) -> None:
    with pytest.raises(OathError, match="32 bytes"):
        ocra_key(key)


def test_an_unknown_purpose_is_refused() -> None:
    with pytest.raises(OathError, match="purpose"):
        signing_subkey(KEY, "login")  # type: ignore[arg-type]
