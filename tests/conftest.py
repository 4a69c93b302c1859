"""Shared fixtures. Real database with per-test rollback; time from the injectable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from netbank import clock

FIXED_NOW = datetime(2026, 11, 27, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def frozen_clock() -> Iterator[datetime]:
    """Pin the server clock; move it with ``clock.advance(seconds)``."""
    clock.set_now(FIXED_NOW)
    try:
        yield FIXED_NOW
    finally:
        clock.set_now(None)
