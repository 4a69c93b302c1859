"""TOTP (RFC 6238): every appendix B vector, T0, periods, the window and bad input."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netbank.oath import OathError, hotp, seconds_remaining, time_step, totp, totp_verify

from .vectors import RFC6238, RFC6238_KEYS

ALGORITHMS = ("SHA1", "SHA256", "SHA512")
VECTORS = [
    pytest.param(t, steps_hex, algorithm, codes[i], id=f"{algorithm}-{t}")
    for (t, steps_hex, *codes) in RFC6238
    for i, algorithm in enumerate(ALGORITHMS)
]


@pytest.mark.parametrize(("timestamp", "steps_hex", "algorithm", "code"), VECTORS)
def test_rfc6238_appendix_b(timestamp: int, steps_hex: str, algorithm: str, code: str) -> None:
    key = RFC6238_KEYS[algorithm]
    assert time_step(timestamp) == int(steps_hex, 16)
    assert totp(key, timestamp, digits=8, algorithm=algorithm) == code


@pytest.mark.parametrize(("timestamp", "steps_hex", "algorithm", "code"), VECTORS)
def test_rfc6238_codes_verify_and_return_their_step(
    timestamp: int, steps_hex: str, algorithm: str, code: str
) -> None:
    key = RFC6238_KEYS[algorithm]
    assert totp_verify(key, code, timestamp, digits=8, algorithm=algorithm) == int(steps_hex, 16)


def test_sha256_vector_needs_the_32_byte_key() -> None:
    # The RFC's table is only reproducible with the hash-sized seeds; the 20-byte one differs.
    assert totp(RFC6238_KEYS["SHA1"], 59, digits=8, algorithm="SHA256") != "46119246"


def test_t0_shifts_the_step_origin() -> None:
    key = RFC6238_KEYS["SHA1"]
    assert totp(key, 1000 + 59, digits=8, t0=1000) == "94287082"
    assert time_step(1000 + 59, t0=1000) == 1


def test_period_sets_the_step_size() -> None:
    key = RFC6238_KEYS["SHA1"]
    # With 60 s steps, time 119 is step 1, whose SHA-1 code is the RFC's time-59 code.
    assert totp(key, 119, period=60, digits=8) == "94287082"
    assert totp(key, 7 * 45 + 1, period=45, digits=8) == hotp(key, 7, digits=8)


def test_fractional_timestamps_round_down() -> None:
    assert time_step(59.999) == 1
    assert time_step(60.0) == 2


def test_seconds_remaining_counts_down_to_the_next_step() -> None:
    assert seconds_remaining(60) == 30
    assert seconds_remaining(89) == 1
    assert seconds_remaining(1059.5, period=60, t0=1000) == 0.5


def test_verify_accepts_previous_and_next_step_with_window_one() -> None:
    key = RFC6238_KEYS["SHA1"]
    now = 1111111111  # step 0x23523ED
    step = time_step(now)
    for offset in (-1, 0, 1):
        code = hotp(key, step + offset)
        assert totp_verify(key, code, now, window=1) == step + offset


def test_verify_rejects_two_steps_away_with_window_one() -> None:
    key = RFC6238_KEYS["SHA1"]
    now = 1111111111
    step = time_step(now)
    for offset in (-2, 2):
        assert totp_verify(key, hotp(key, step + offset), now, window=1) is None


def test_drift_moves_the_window() -> None:
    key = RFC6238_KEYS["SHA1"]
    now = 1111111111
    step = time_step(now)
    late_code = hotp(key, step - 3)
    assert totp_verify(key, late_code, now, window=1) is None
    assert totp_verify(key, late_code, now, window=1, drift=-3) == step - 3


def test_window_zero_accepts_only_the_current_step() -> None:
    key = RFC6238_KEYS["SHA1"]
    assert totp_verify(key, "94287082", 59, digits=8, window=0) == 1
    assert totp_verify(key, "94287082", 60, digits=8, window=0) is None


def test_window_never_reaches_before_step_zero() -> None:
    key = RFC6238_KEYS["SHA1"]
    assert totp_verify(key, hotp(key, 0), 5, window=3) == 0


def test_wrong_algorithm_does_not_verify() -> None:
    assert totp_verify(RFC6238_KEYS["SHA256"], "46119246", 59, digits=8, algorithm="SHA1") is None


@pytest.mark.parametrize(
    "code", ["9428708", "942870820", "94 87082", "９４２８７０８２", "abcdefgh", ""]
)
def test_malformed_codes_do_not_verify(code: str) -> None:
    assert totp_verify(RFC6238_KEYS["SHA1"], code, 59, digits=8) is None


def test_bad_parameters_raise_clear_errors() -> None:
    key = RFC6238_KEYS["SHA1"]
    with pytest.raises(OathError, match="period must be a positive"):
        totp(key, 59, period=0)
    with pytest.raises(OathError, match="period must be a positive"):
        time_step(59, period=-30)
    with pytest.raises(OathError, match="before T0"):
        totp(key, 59, t0=100)
    with pytest.raises(OathError, match="finite"):
        time_step(float("nan"))
    with pytest.raises(OathError, match="digits must be 6 to 8"):
        totp(key, 59, digits=9)
    with pytest.raises(OathError, match="unknown algorithm"):
        totp(key, 59, algorithm="MD5")
    with pytest.raises(OathError, match="at least 128 bits"):
        totp(b"short key", 59)
    with pytest.raises(OathError, match="window must be 0 to 10"):
        totp_verify(key, "287082", 59, window=-1)
    with pytest.raises(OathError, match="window must be 0 to 10"):
        totp_verify(key, "287082", 59, window=11)
    with pytest.raises(OathError, match="digits must be 6 to 8"):
        totp_verify(key, "28708", 59, digits=5)


@settings(deadline=None)
@given(
    key=st.binary(min_size=16, max_size=64),
    step=st.integers(min_value=20, max_value=2**40),
    second=st.integers(min_value=0, max_value=29),
    window=st.integers(min_value=0, max_value=4),
    algorithm=st.sampled_from(ALGORITHMS),
    digits=st.sampled_from((6, 7, 8)),
    data=st.data(),
)
def test_window_is_symmetric_and_returns_the_matched_step(
    key: bytes,
    step: int,
    second: int,
    window: int,
    algorithm: str,
    digits: int,
    data: st.DataObject,
) -> None:
    offset = data.draw(st.integers(min_value=-window, max_value=window), label="offset")
    target = step + offset
    code = hotp(key, target, digits=digits, algorithm=algorithm)
    # An unrelated step in the window can share the code (about 1 in 10**digits); such a
    # collision proves nothing about the window, so it is not a counterexample.
    others = {
        hotp(key, s, digits=digits, algorithm=algorithm)
        for s in range(step - window, step + window + 1)
        if s != target
    }
    assume(code not in others)
    now = step * 30 + second
    assert totp_verify(key, code, now, digits=digits, algorithm=algorithm, window=window) == target


@settings(deadline=None)
@given(
    key=st.binary(min_size=16, max_size=64),
    step=st.integers(min_value=20, max_value=2**40),
    window=st.integers(min_value=0, max_value=4),
    beyond=st.integers(min_value=1, max_value=5),
    side=st.sampled_from((-1, 1)),
    algorithm=st.sampled_from(ALGORITHMS),
)
def test_codes_outside_the_window_never_verify(
    key: bytes, step: int, window: int, beyond: int, side: int, algorithm: str
) -> None:
    outside = step + side * (window + beyond)
    code = hotp(key, outside, algorithm=algorithm)
    inside = {hotp(key, s, algorithm=algorithm) for s in range(step - window, step + window + 1)}
    assume(code not in inside)  # a chance collision with an in-window code is not a failure
    assert totp_verify(key, code, step * 30, algorithm=algorithm, window=window) is None
