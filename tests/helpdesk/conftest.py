from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from netbank import clock

# 2026-11-27 10:00 JST, a Friday (a business day, so 振込予約 dates are easy).
HELPDESK_NOW = datetime.fromisoformat("2026-11-27T01:00:00+00:00")


@pytest.fixture(autouse=True)
def _pinned_clock() -> Iterator[datetime]:
    """Every helpdesk test runs on the pinned clock (OTP steps, idle timeouts, expiry);
    move it with ``clock.advance``. A test with a separate server process unpins it."""
    clock.set_now(HELPDESK_NOW)
    try:
        yield HELPDESK_NOW
    finally:
        clock.set_now(None)
