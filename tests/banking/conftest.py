from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from netbank import clock

# 2026-11-27 10:00 JST, a Friday (business day).
BANK_NOW = datetime.fromisoformat("2026-11-27T01:00:00+00:00")


@pytest.fixture(autouse=True)
def _pinned_clock() -> Iterator[datetime]:
    """Every banking test runs at a known time; move it with clock.advance()."""
    clock.set_now(BANK_NOW)
    try:
        yield BANK_NOW
    finally:
        clock.set_now(None)
