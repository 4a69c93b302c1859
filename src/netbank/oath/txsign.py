"""The keys of 取引認証 (transaction signing), shared by the bank and the token app.

A token holds one 32-byte transaction-signing key (made in activation, sealed with the
seed at the bank, kept in the app's vault). It serves two purposes: OCRA codes over
signing questions, and the MAC with which the app fetches its pending question. Each
purpose gets its own subkey, derived with HKDF-SHA256 (RFC 5869) under a distinct info
label, so a value made for one purpose can never be taken for the other, whatever its
bytes look like::

    ocra key        = HKDF-SHA256(ikm=signing key, salt="netbank-transaction-signing/2",
                                  info="ocra-signing-question\\0", L=32)
    pending MAC key = HKDF-SHA256(ikm=signing key, salt="netbank-transaction-signing/2",
                                  info="pending-question-mac\\0", L=32)

Both sides derive from the key they already store, so no stored key changes.
Pure: no Django, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Final, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from netbank.oath.errors import OathError

SIGNING_KEY_BYTES: Final = 32
SUBKEY_BYTES: Final = 32
_SALT: Final = b"netbank-transaction-signing/2"
Purpose = Literal["ocra", "pending"]
_INFO: Final[dict[str, bytes]] = {
    "ocra": b"ocra-signing-question\x00",
    "pending": b"pending-question-mac\x00",
}
# Prefixed to the pending-question MAC's message (besides the separate key).
PENDING_CONTEXT: Final = b"netbank-signing-pending/2\x00"


def signing_subkey(signing_key: bytes, purpose: Purpose) -> bytes:
    """The subkey of ``signing_key`` for one purpose ("ocra" or "pending")."""
    if not isinstance(signing_key, bytes | bytearray) or len(signing_key) != SIGNING_KEY_BYTES:
        raise OathError(f"the transaction-signing key must be {SIGNING_KEY_BYTES} bytes")
    info = _INFO.get(purpose)
    if info is None:
        raise OathError(f"unknown signing-key purpose {purpose!r}")
    return HKDF(algorithm=hashes.SHA256(), length=SUBKEY_BYTES, salt=_SALT, info=info).derive(
        bytes(signing_key)
    )


def ocra_key(signing_key: bytes) -> bytes:
    """The key OCRA signing codes are made and checked with."""
    return signing_subkey(signing_key, "ocra")


def pending_mac_key(signing_key: bytes) -> bytes:
    """The key of the MAC that authenticates a fetch of the pending question."""
    return signing_subkey(signing_key, "pending")


def pending_mac_message(*, service_id: str, user_id: str, time: str) -> bytes:
    # surrogatepass: a lone surrogate from a JSON body must not raise (any str encodes).
    return PENDING_CONTEXT + f"{service_id}\x00{user_id}\x00{time}".encode("utf-8", "surrogatepass")


def pending_mac(signing_key: bytes, *, service_id: str, user_id: str, time: str) -> bytes:
    """HMAC-SHA256 under the pending-question subkey (``time``: unix seconds as text)."""
    message = pending_mac_message(service_id=service_id, user_id=user_id, time=time)
    return hmac.new(pending_mac_key(signing_key), message, hashlib.sha256).digest()


def pending_mac_text(signing_key: bytes, *, service_id: str, user_id: str, time: str) -> str:
    """``pending_mac`` as unpadded base64url, as the request body carries it."""
    digest = pending_mac(signing_key, service_id=service_id, user_id=user_id, time=time)
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
