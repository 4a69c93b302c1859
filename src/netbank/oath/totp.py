"""TOTP (RFC 6238), verification with a look-around window, and the bank's rule for a
token with a learned clock drift (``totp_check``).

cryptography's TOTP has no T0 and divides the time as a float, so TOTP here is its
own time-step arithmetic (integers where the caller passes integers) on top of ``hotp``.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from typing import Final

from netbank.oath.errors import OathError
from netbank.oath.hotp import MAX_COUNTER, generator, hotp, is_code

MAX_WINDOW: Final = 10  # ±10 steps is already 5 minutes at 30 s; more is no longer an OTP
# A learned drift never exceeds this many steps either way (5 minutes at 30 s): no
# sequence of codes can walk the drift window further from real time.
MAX_DRIFT: Final = 10


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
    _check_window(window)
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


def _check_window(window: int) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= MAX_WINDOW:
        raise OathError(f"window must be 0 to {MAX_WINDOW} steps; got {window!r}")


def bound_drift(drift: int) -> int:
    """``drift`` limited to ±``MAX_DRIFT`` steps."""
    return max(-MAX_DRIFT, min(MAX_DRIFT, drift))


def check_steps(now_step: int, *, drift: int, window: int = 1) -> tuple[int, ...]:
    """The steps a code may be for, lowest first: ±``window`` around the bank's own step
    (always, so a device whose clock was put right works at once) and ±``window``
    around ``now_step`` + the drift (bounded to ±``MAX_DRIFT``), never below step 0."""
    _check_window(window)
    if isinstance(drift, bool) or not isinstance(drift, int):
        raise OathError("drift must be a whole number of steps")
    shifted = now_step + bound_drift(drift)
    steps = set(range(now_step - window, now_step + window + 1))
    steps.update(range(shifted - window, shifted + window + 1))
    return tuple(sorted(s for s in steps if 0 <= s <= MAX_COUNTER))


@dataclass(frozen=True, slots=True)
class TotpCheck:
    """What ``totp_check`` decided.

    ``step``: the step the code was accepted for; for a refused code that matched a step
    at or before ``last_step`` (a replay, or an older code), that step; else None.
    ``drift``: the drift to keep: the accepted step minus the bank's step, bounded; the
    given drift (bounded) when the code is refused.
    """

    accepted: bool
    step: int | None
    drift: int

    @property
    def replay(self) -> bool:
        """The code is right for a step in the window, but not after the last accepted one."""
        return not self.accepted and self.step is not None


def totp_check(
    key: bytes,
    code: str,
    timestamp: float,
    *,
    last_step: int,
    drift: int = 0,
    window: int = 1,
    period: int = 30,
    digits: int = 6,
    algorithm: str = "SHA1",
    t0: int = 0,
) -> TotpCheck:
    """The bank's rule for one OTP of a token whose last accepted step is ``last_step``
    and whose learned drift is ``drift`` steps.

    - The code may be for any step of ``check_steps``: the true time's window is always
      open, as well as the drift's (bounded to ±``MAX_DRIFT``).
    - It is accepted only for a step after ``last_step``: never twice, never an older one.
    - Of several matching steps (a code collision), the one nearest the bank's step wins.
    - The accepted step's offset from the bank's step is the new drift, so a drift moves
      back as soon as codes come from a corrected clock.

    Every candidate is computed and compared in constant time.
    """
    impl = generator(key, digits=digits, algorithm=algorithm)
    if isinstance(last_step, bool) or not isinstance(last_step, int):
        raise OathError("last_step must be a whole number")
    now_step = time_step(timestamp, period=period, t0=t0)
    candidates = check_steps(now_step, drift=drift, window=window)
    kept = bound_drift(drift)
    if not is_code(code, digits):
        return TotpCheck(False, None, kept)
    given = code.encode("ascii")
    matched = [s for s in candidates if hmac.compare_digest(impl.generate(s), given)]
    fresh = [s for s in matched if s > last_step]
    if fresh:
        step = min(fresh, key=lambda s: (abs(s - now_step), s))
        return TotpCheck(True, step, bound_drift(step - now_step))
    return TotpCheck(False, max(matched) if matched else None, kept)
