"""HOTP (RFC 4226) on top of cryptography's implementation."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.twofactor.hotp import HOTP

from netbank.oath.errors import OathError

HashAlgo = hashes.SHA1 | hashes.SHA256 | hashes.SHA512
ALGORITHMS: dict[str, type[HashAlgo]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA512": hashes.SHA512,
}
MIN_KEY_BYTES = 16  # 128 bits, RFC 4226 section 4 R6


def hash_algorithm(name: str) -> HashAlgo:
    try:
        return ALGORITHMS[name.upper().replace("-", "")]()
    except KeyError:
        raise OathError(f"unknown algorithm {name!r}; use SHA1, SHA256 or SHA512") from None


def check_params(key: bytes, digits: int) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise OathError("key must be at least 128 bits")
    if digits not in (6, 7, 8):
        raise OathError("digits must be 6, 7 or 8")


def hotp(key: bytes, counter: int, *, digits: int = 6, algorithm: str = "SHA1") -> str:
    """The HOTP value for ``counter`` as a zero-padded string."""
    check_params(key, digits)
    if counter < 0:
        raise OathError("counter must not be negative")
    impl = HOTP(key, digits, hash_algorithm(algorithm), enforce_key_length=False)
    return impl.generate(counter).decode("ascii")
