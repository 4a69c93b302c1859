"""A token's sealed secret: the one module that knows its layout.

The bank stores one value per token, sealed with ``otp.crypto`` under the token's id and
customer: the OTP seed ‖ the 32-byte transaction-signing key (docs/banking.md). Login
OTPs use the seed only; 取引認証 uses the signing key only (through ``netbank.oath.txsign``).
Everything that seals, opens or splits that value asks this module, so the layout and
its checks are written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from netbank.otp import crypto

if TYPE_CHECKING:
    from netbank.otp.models import Token

# Sealing purpose (part of the AAD): changing it would make every stored secret unreadable.
PURPOSE = "token-secret"
SIGNING_KEY_BYTES = 32
# A seed shorter than this is no OTP seed (RFC 4226 asks for at least 128 bits).
MIN_SEED_BYTES = 16


@dataclass(frozen=True, repr=False)
class TokenSecret:
    seed: bytes
    signing_key: bytes

    def __repr__(self) -> str:  # never print key material
        return "TokenSecret(<secret>)"

    @property
    def packed(self) -> bytes:
        return self.seed + self.signing_key


def token_secret_seal(
    *, token_id: int, customer_id: int, seed: bytes, signing_key: bytes
) -> crypto.Sealed:
    """Seal a token's seed and signing key for storing on its row."""
    if len(signing_key) != SIGNING_KEY_BYTES:
        raise ValueError(f"the transaction-signing key must be {SIGNING_KEY_BYTES} bytes")
    if len(seed) < MIN_SEED_BYTES:
        raise ValueError(f"an OTP seed has at least {MIN_SEED_BYTES} bytes")
    return crypto.seal(
        purpose=PURPOSE, token_id=token_id, customer_id=customer_id, plaintext=seed + signing_key
    )


def token_secret_open(
    *, token_id: int, customer_id: int, key_id: str, nonce: bytes | None, ciphertext: bytes | None
) -> TokenSecret:
    """Open a sealed secret read from a token row. Raises crypto.SealError if it does not
    open for this token and customer (e.g. copied from another row), or is too short."""
    packed = crypto.unseal(
        purpose=PURPOSE,
        token_id=token_id,
        customer_id=customer_id,
        key_id=key_id,
        nonce=nonce or b"",
        ciphertext=ciphertext or b"",
    )
    if len(packed) < SIGNING_KEY_BYTES + MIN_SEED_BYTES:
        raise crypto.SealError("sealed token secret is too short")
    return TokenSecret(packed[:-SIGNING_KEY_BYTES], packed[-SIGNING_KEY_BYTES:])


def token_secret_of(token: Token) -> TokenSecret:
    """The token's secret, opened (see ``token_secret_open``)."""
    return token_secret_open(
        token_id=token.pk,
        customer_id=token.customer_id,
        key_id=token.secret_key_id,
        nonce=bytes(token.secret_nonce or b""),
        ciphertext=bytes(token.secret_ciphertext or b""),
    )


def token_secret(token: Token) -> bytes:
    """The whole secret as stored: seed ‖ signing key."""
    return token_secret_of(token).packed


def token_seed(token: Token) -> bytes:
    """The OTP seed (20 bytes for SHA1, 32 for SHA256, 64 for SHA512)."""
    return token_secret_of(token).seed


def token_signing_key(token: Token) -> bytes:
    """The 32-byte transaction-signing key (never used for login OTPs)."""
    return token_secret_of(token).signing_key
