"""TOTP (RFC 6238) and verification with a look-around window."""

from __future__ import annotations

import hmac

from netbank.oath.errors import OathError
from netbank.oath.hotp import check_params, hotp


def time_step(timestamp: float, *, period: int = 30, t0: int = 0) -> int:
    if period <= 0:
        raise OathError("period must be positive")
    return int((timestamp - t0) // period)


def totp(
    key: bytes,
    timestamp: float,
    *,
    period: int = 30,
    digits: int = 6,
    algorithm: str = "SHA1",
    t0: int = 0,
) -> str:
    return hotp(key, time_step(timestamp, period=period, t0=t0), digits=digits, algorithm=algorithm)


def totp_verify(
    key: bytes,
    code: str,
    timestamp: float,
    *,
    period: int = 30,
    digits: int = 6,
    algorithm: str = "SHA1",
    t0: int = 0,
    window: int = 1,
    drift: int = 0,
) -> int | None:
    """The time step ``code`` matches within ±``window`` steps of now + ``drift``, or None.

    Every candidate is computed and compared in constant time, so the answer's timing
    does not say which step matched.
    """
    check_params(key, digits)
    if window < 0:
        raise OathError("window must not be negative")
    if len(code) != digits or not code.isascii() or not code.isdigit():
        return None
    centre = time_step(timestamp, period=period, t0=t0) + drift
    matched: int | None = None
    for step in range(centre - window, centre + window + 1):
        if step < 0:
            continue
        candidate = hotp(key, step, digits=digits, algorithm=algorithm)
        if hmac.compare_digest(candidate.encode(), code.encode()) and matched is None:
            matched = step
    return matched
