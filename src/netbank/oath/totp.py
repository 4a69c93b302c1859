"""TOTP (RFC 6238) and verification with a look-around window.

cryptography's TOTP has no T0 and divides the time as a float, so TOTP here is its
own time-step arithmetic (integers where the caller passes integers) on top of ``hotp``.
"""

from __future__ import annotations

import hmac
import math
from typing import Final

from netbank.oath.errors import OathError
from netbank.oath.hotp import MAX_COUNTER, generator, hotp, is_code

MAX_WINDOW: Final = 10  # ±10 steps is already 5 minutes at 30 s; more is no longer an OTP


def _check_period(period: int) -> None:
    if isinstance(period, bool) or not isinstance(period, int) or period <= 0:
        raise OathError(f"period must be a positive whole number of seconds; got {period!r}")


def time_step(timestamp: float, *, period: int = 30, t0: int = 0) -> int:
    """RFC 6238 T = floor((timestamp − T0) / period). A time before T0 is an error."""
    _check_period(period)
    if isinstance(timestamp, float) and not math.isfinite(timestamp):
        raise OathError("timestamp must be a finite number")
    if timestamp < t0:
        raise OathError("timestamp is before T0")
    return int((timestamp - t0) // period)


def seconds_remaining(timestamp: float, *, period: int = 30, t0: int = 0) -> float:
    """How long the code for ``timestamp`` stays current (for the app's countdown)."""
    step = time_step(timestamp, period=period, t0=t0)
    return t0 + (step + 1) * period - timestamp


def totp(
    key: bytes,
    timestamp: float,
    *,
    period: int = 30,
    digits: int = 6,
    algorithm: str = "SHA1",
    t0: int = 0,
) -> str:
    """The TOTP value at ``timestamp`` (Unix seconds)."""
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
    does not say which step matched. Replay protection (refusing a step at or before the
    last accepted one) is the caller's job: it owns the stored last step.
    """
    impl = generator(key, digits=digits, algorithm=algorithm)
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= MAX_WINDOW:
        raise OathError(f"window must be 0 to {MAX_WINDOW} steps; got {window!r}")
    if isinstance(drift, bool) or not isinstance(drift, int):
        raise OathError("drift must be a whole number of steps")
    centre = time_step(timestamp, period=period, t0=t0) + drift
    if not is_code(code, digits):
        return None
    matched: int | None = None
    given = code.encode("ascii")
    for step in range(centre - window, centre + window + 1):
        if not 0 <= step <= MAX_COUNTER:
            continue
        if hmac.compare_digest(impl.generate(step), given) and matched is None:
            matched = step
    return matched
