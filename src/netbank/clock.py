"""The one clock of the server.

Every rule that depends on time (lockouts, expiry, OTP steps, idle sessions) asks
``clock.now()``; tests move time with ``clock.frozen(...)`` instead of sleeping.
Only timezone-aware datetimes exist here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_override: datetime | None = None


def now() -> datetime:
    override = _override
    if override is not None:
        return override
    return datetime.now(UTC)


def timestamp() -> float:
    return now().timestamp()


def set_now(value: datetime | None) -> None:
    """Pin the clock (tests, and the live-server tests in other threads)."""
    global _override
    if value is not None and value.tzinfo is None:
        raise ValueError("clock needs a timezone-aware datetime")
    with _lock:
        _override = value


def advance(seconds: float) -> datetime:
    """Move a pinned clock forward."""
    global _override
    with _lock:
        if _override is None:
            raise RuntimeError("advance() needs a pinned clock; call set_now() first")
        _override = _override + timedelta(seconds=seconds)
        return _override


@contextmanager
def frozen(value: datetime) -> Iterator[None]:
    previous = _override
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)
