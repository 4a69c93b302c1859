"""The bank's clock from the HTTP Date header (drives the clock warning only)."""

from __future__ import annotations

import pytest

from netbank.token_app.timecheck import TimeCheckError, server_clock_offset
from tests.token_app.bank import running_bank, unused_loopback_url


def test_offset_to_a_bank_on_the_same_clock_is_about_zero() -> None:
    with running_bank() as bank:
        offset = server_clock_offset(bank.base_url)
    assert abs(offset) < 2


def test_a_device_clock_a_minute_fast_shows_as_minus_sixty() -> None:
    import time

    with running_bank() as bank:
        offset = server_clock_offset(bank.base_url, clock=lambda: time.time() + 60)
    assert -62 < offset < -58


def test_unreachable_bank_raises() -> None:
    with pytest.raises(TimeCheckError):
        server_clock_offset(unused_loopback_url(), timeout=2)


@pytest.mark.parametrize("url", ["http://bank.example.jp", "ftp://bank.example.jp", "bank"])
def test_only_https_or_this_machine(url: str) -> None:
    with pytest.raises(TimeCheckError):
        server_clock_offset(url)


def test_clock_moved_counts_only_within_the_same_boot() -> None:
    from netbank.token_app.timecheck import BootClock, boot_clock, clock_moved

    boot = BootClock("boot-a", 1000.0)
    # Measured at device time 5000 with 900 s since boot: wall at boot 4100.
    assert clock_moved(boot_id="boot-a", wall_at_boot=4100.0, now=5140.0, boot=boot) == 40.0
    assert clock_moved(boot_id="boot-b", wall_at_boot=4100.0, now=5140.0, boot=boot) == 0.0
    assert clock_moved(boot_id="", wall_at_boot=0.0, now=5140.0, boot=boot) == 0.0
    assert clock_moved(boot_id="boot-a", wall_at_boot=4100.0, now=5140.0, boot=None) == 0.0
    real = boot_clock()  # Linux: this boot's id and a positive time since boot
    assert real is None or (real.boot_id and real.seconds_since_boot > 0)
