"""The countdown the app shows beside a code."""

from __future__ import annotations

import pytest

from netbank.token_app.codes import CodeView


@pytest.mark.parametrize(
    ("seconds_left", "shown"), [(0.01, 1), (0.99, 1), (1.0, 1), (29.2, 30), (30.0, 30)]
)
def test_the_seconds_left_are_rounded_up_and_never_zero(seconds_left: float, shown: int) -> None:
    # int() made a code with 0.3 s left say "0 seconds" (and --json answer 0).
    view = CodeView(code="123456", step=1, seconds_left=seconds_left, period=30, skew_seconds=0)
    assert view.whole_seconds_left == shown
