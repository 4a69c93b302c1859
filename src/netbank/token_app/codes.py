"""What the main screen and ``netbank-token code`` show: the code, its countdown, clock skew.

Codes are computed on the device's own clock, as the leaflet asks the customer to
set it right (「携帯電話の日時が正しく設定されていることを確認」). The offset to the
bank's clock measured at activation (and again whenever the app reaches the bank)
only drives the warning: correcting codes by a stored offset would silently break
them the moment the customer follows the warning and fixes the clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from netbank.oath import seconds_remaining, time_step, totp
from netbank.token_app.vault import TokenRecord

# More than this between the device clock and the bank's earns a warning. The bank
# accepts one step either side (30 s), so 15 s is half the margin gone.
CLOCK_SKEW_LIMIT_SECONDS = 15.0


@dataclass(frozen=True)
class CodeView:
    code: str
    step: int
    seconds_left: float
    period: int
    skew_seconds: float

    @property
    def skew_warning(self) -> bool:
        return clock_skew_warning(self.skew_seconds)

    @property
    def whole_seconds_left(self) -> int:
        """Whole seconds the code stays current, rounded up: 1 to the period, never 0."""
        return math.ceil(self.seconds_left)

    @property
    def fraction_left(self) -> float:
        return max(0.0, min(1.0, self.seconds_left / self.period))

    def grouped(self) -> str:
        """The code split for reading aloud or typing: 123 456, 1234 5678."""
        half = len(self.code) // 2
        return f"{self.code[:half]} {self.code[half:]}"


def clock_skew_warning(skew_seconds: float) -> bool:
    return abs(skew_seconds) > CLOCK_SKEW_LIMIT_SECONDS


def clock_skew_text(skew_seconds: float) -> tuple[str, int]:
    """The message key and the seconds for a skew (bank clock minus device clock): a
    device ahead of the bank is 進んでいます, behind it 遅れています."""
    if skew_seconds < 0:
        return "clock_fast", round(-skew_seconds)
    return "clock_slow", round(skew_seconds)


def code_view(token: TokenRecord, now: float, *, moved: float = 0.0) -> CodeView:
    """``moved``: seconds the device clock was set forward since the offset was measured
    (timecheck.clock_moved); the skew now is the measured one less that."""
    return CodeView(
        code=totp(
            token.seed, now, period=token.period, digits=token.digits, algorithm=token.algorithm
        ),
        step=time_step(now, period=token.period),
        seconds_left=seconds_remaining(now, period=token.period),
        period=token.period,
        skew_seconds=token.server_time_offset - moved,
    )
