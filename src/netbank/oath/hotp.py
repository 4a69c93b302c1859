"""HOTP (RFC 4226) on top of cryptography's implementation, plus the shared pieces.

``hash_algorithm``, ``check_params`` and ``dynamic_truncate`` are shared with TOTP and
OCRA, so every code in the bank is truncated by the same few lines.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final, Literal, cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.twofactor.hotp import HOTP

from netbank.digits import is_ascii_digits
from netbank.oath.errors import OathError

Algorithm = Literal["SHA1", "SHA256", "SHA512"]
HashAlgo = hashes.SHA1 | hashes.SHA256 | hashes.SHA512

ALGORITHMS: Final[dict[str, type[HashAlgo]]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA512": hashes.SHA512,
}
DIGITS: Final = (6, 7, 8)
MIN_KEY_BYTES: Final = 16  # 128 bits, RFC 4226 section 4 requirement R6
DEFAULT_KEY_BYTES: Final = 20  # 160 bits, what RFC 4226 recommends
MAX_COUNTER: Final = 2**64 - 1  # the counter is an 8-byte big-endian integer


def normalize_algorithm(name: str) -> Algorithm:
    """``"sha-256"``, ``"SHA256"`` … → the canonical ``"SHA256"``; anything else is an error."""
    canonical = name.strip().upper().replace("-", "") if isinstance(name, str) else ""
    if canonical not in ALGORITHMS:
        raise OathError(f"unknown algorithm {name!r}; use SHA1, SHA256 or SHA512")
    return cast(Algorithm, canonical)


def hash_algorithm(name: str) -> HashAlgo:
    """The cryptography hash object for an algorithm name (see ``normalize_algorithm``)."""
    return ALGORITHMS[normalize_algorithm(name)]()


def check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray):
        raise OathError("key must be bytes")
    if len(key) < MIN_KEY_BYTES:
        raise OathError(f"key must be at least 128 bits (16 bytes); got {len(key) * 8} bits")


def check_digits(digits: int, allowed: tuple[int, ...] = DIGITS) -> None:
    # bool is an int subclass; True digits is a caller's bug, not a request for 1 digit.
    if isinstance(digits, bool) or not isinstance(digits, int) or digits not in allowed:
        raise OathError(f"digits must be {allowed[0]} to {allowed[-1]}; got {digits!r}")


def check_counter(counter: int) -> None:
    if isinstance(counter, bool) or not isinstance(counter, int):
        raise OathError("counter must be an integer")
    if counter < 0:
        raise OathError("counter must not be negative")
    if counter > MAX_COUNTER:
        raise OathError("counter must fit in 8 bytes (at most 2**64 - 1)")


def check_params(key: bytes, digits: int) -> None:
    """Raise ``OathError`` unless ``key`` has at least 128 bits and ``digits`` is 6–8."""
    check_key(key)
    check_digits(digits)


def generate_key(nbytes: int = DEFAULT_KEY_BYTES) -> bytes:
    """A fresh random OATH key (160 bits by default, never under 128)."""
    if nbytes < MIN_KEY_BYTES:
        raise OathError("a new key must have at least 128 bits (16 bytes)")
    return secrets.token_bytes(nbytes)


def dynamic_truncate(mac: bytes) -> int:
    """RFC 4226 section 5.3: 31 bits taken at the offset named by the last nibble."""
    offset = mac[-1] & 0x0F
    return int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF


def generator(key: bytes, *, digits: int = 6, algorithm: str = "SHA1") -> HOTP:
    """A checked HOTP generator for one key, to compute several counters' codes with
    (``generate(counter)`` gives the code as ASCII bytes; the counter is not checked)."""
    check_params(key, digits)
    return HOTP(bytes(key), digits, hash_algorithm(algorithm), enforce_key_length=False)


def hotp(key: bytes, counter: int, *, digits: int = 6, algorithm: str = "SHA1") -> str:
    """The HOTP value for ``counter`` as a zero-padded string of ``digits`` digits."""
    impl = generator(key, digits=digits, algorithm=algorithm)
    check_counter(counter)
    return impl.generate(counter).decode("ascii")


def is_code(code: object, digits: int) -> bool:
    """True when ``code`` is a string of exactly ``digits`` ASCII digits (no spaces, no ２)."""
    return is_ascii_digits(code, length=digits)


def hotp_verify(
    key: bytes,
    code: str,
    counter: int,
    *,
    digits: int = 6,
    algorithm: str = "SHA1",
    look_ahead: int = 0,
) -> int | None:
    """The counter in ``counter`` … ``counter + look_ahead`` that ``code`` matches, or None.

    All candidates are computed and compared in constant time (RFC 4226 section 7.4
    resynchronisation); the caller stores ``matched + 1`` as the next counter.
    """
    check_params(key, digits)
    check_counter(counter)
    if isinstance(look_ahead, bool) or not isinstance(look_ahead, int) or look_ahead < 0:
        raise OathError("look_ahead must be a non-negative integer")
    if not is_code(code, digits):
        return None
    matched: int | None = None
    for candidate_counter in range(counter, min(counter + look_ahead, MAX_COUNTER) + 1):
        candidate = hotp(key, candidate_counter, digits=digits, algorithm=algorithm)
        if hmac.compare_digest(candidate.encode(), code.encode()) and matched is None:
            matched = candidate_counter
    return matched
