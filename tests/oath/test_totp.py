"""TOTP (RFC 6238): every appendix B vector, T0, periods, the window and bad input."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netbank.oath import (
    MAX_DRIFT,
    OathError,
    check_steps,
    hotp,
    seconds_remaining,
    time_step,
    totp,
    totp_check,
    totp_verify,
)

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


# --- totp_check: the bank's rule with a learned drift and the last accepted step ---

KEY = RFC6238_KEYS["SHA1"]
NOW = 1111111111  # step 0x23523ED, 1 s into it
NOW_STEP = time_step(NOW)


def _check(offset: int, *, drift: int = 0, last: int = -1, window: int = 1) -> object:
    return totp_check(
        KEY, hotp(KEY, NOW_STEP + offset), NOW, last_step=last, drift=drift, window=window
    )


def test_check_steps_are_the_true_times_window_and_the_drifts() -> None:
    assert check_steps(100, drift=0) == (99, 100, 101)
    assert check_steps(100, drift=2) == (99, 100, 101, 102, 103)
    assert check_steps(100, drift=-4) == (95, 96, 97, 99, 100, 101)
    assert check_steps(100, drift=0, window=0) == (100,)
    assert check_steps(100, drift=3, window=0) == (100, 103)
    # Bounded: a stored drift beyond MAX_DRIFT is used as MAX_DRIFT.
    assert check_steps(100, drift=50) == check_steps(100, drift=MAX_DRIFT)
    assert check_steps(1, drift=-3) == (0, 1, 2)


def test_a_learned_drift_never_closes_the_true_times_window() -> None:
    for drift in (-MAX_DRIFT, -2, 2, 5, MAX_DRIFT):
        for offset in (-1, 0, 1):
            result = _check(offset, drift=drift)
            assert result.accepted
            assert result.step == NOW_STEP + offset
            assert result.drift == offset  # the drift moves back to the device's offset


def test_the_drifts_window_is_open_and_learns_the_new_offset() -> None:
    result = _check(3, drift=2)
    assert result.accepted
    assert result.step == NOW_STEP + 3
    assert result.drift == 3
    assert not _check(3, drift=0).accepted
    assert not _check(2, drift=5).accepted  # between the two windows


def test_never_at_or_before_the_last_accepted_step() -> None:
    used = _check(0, last=NOW_STEP)
    assert not used.accepted
    assert used.replay
    assert used.step == NOW_STEP
    older = _check(-1, last=NOW_STEP)
    assert not older.accepted
    assert older.replay
    assert _check(1, last=NOW_STEP).accepted
    # A refusal keeps the drift it was given.
    assert _check(0, drift=4, last=NOW_STEP).drift == 4


def test_a_wrong_or_malformed_code_is_no_replay() -> None:
    for code in ("000000", "12345", "abcdef"):
        result = totp_check(KEY, code, NOW, last_step=-1, drift=2)
        assert not result.accepted
        assert not result.replay
        assert result.step is None


def test_the_new_drift_is_bounded() -> None:
    result = _check(MAX_DRIFT + 1, drift=MAX_DRIFT)
    assert result.accepted
    assert result.drift == MAX_DRIFT
    assert not _check(MAX_DRIFT + 2, drift=MAX_DRIFT).accepted


def test_check_refuses_bad_parameters() -> None:
    with pytest.raises(OathError, match="last_step must be a whole number"):
        totp_check(KEY, "287082", 59, last_step=True)  # type: ignore[arg-type]
    with pytest.raises(OathError, match="drift must be a whole number"):
        totp_check(KEY, "287082", 59, last_step=-1, drift=1.5)  # type: ignore[arg-type]
    with pytest.raises(OathError, match="window must be 0 to 10"):
        totp_check(KEY, "287082", 59, last_step=-1, window=11)


def _collides(key: bytes, code: str, target: int, steps: tuple[int, ...]) -> bool:
    return any(hotp(key, s) == code for s in steps if s != target)


@settings(deadline=None)
@given(
    key=st.binary(min_size=16, max_size=64),
    step=st.integers(min_value=50, max_value=2**40),
    second=st.integers(min_value=0, max_value=29),
    drift=st.integers(min_value=-3 * MAX_DRIFT, max_value=3 * MAX_DRIFT),
    offset=st.integers(min_value=-1, max_value=1),
    behind=st.integers(min_value=1, max_value=40),
)
def test_property_the_true_time_is_always_accepted_after_the_last_step(
    key: bytes, step: int, second: int, drift: int, offset: int, behind: int
) -> None:
    target = step + offset
    code = hotp(key, target)
    steps = check_steps(step, drift=drift)
    assume(not _collides(key, code, target, steps))
    result = totp_check(key, code, step * 30 + second, last_step=target - behind, drift=drift)
    assert result.accepted
    assert result.step == target
    assert result.drift == offset


@settings(deadline=None)
@given(
    key=st.binary(min_size=16, max_size=64),
    step=st.integers(min_value=50, max_value=2**40),
    drift=st.integers(min_value=-3 * MAX_DRIFT, max_value=3 * MAX_DRIFT),
    offset=st.integers(min_value=-2 * MAX_DRIFT, max_value=2 * MAX_DRIFT),
    last_offset=st.integers(min_value=-2 * MAX_DRIFT, max_value=2 * MAX_DRIFT),
)
def test_property_an_accepted_step_is_after_the_last_and_inside_the_windows(
    key: bytes, step: int, drift: int, offset: int, last_offset: int
) -> None:
    code = hotp(key, step + offset)
    result = totp_check(key, code, step * 30, last_step=step + last_offset, drift=drift)
    steps = check_steps(step, drift=drift)
    assert abs(result.drift) <= MAX_DRIFT
    if result.accepted:
        assert result.step is not None
        assert result.step > step + last_offset
        assert result.step in steps
        assert result.drift == max(-MAX_DRIFT, min(MAX_DRIFT, result.step - step))
    elif result.step is not None:
        assert result.replay
        assert result.step <= step + last_offset
    if step + offset in steps and offset > last_offset:
        assert result.accepted  # a right code inside a window after the last step


@settings(deadline=None)
@given(
    key=st.binary(min_size=16, max_size=32),
    start=st.integers(min_value=10**6, max_value=2**36),
    moves=st.lists(
        st.tuples(
            st.sampled_from((-40, -20, 0, 20, 40)),  # the phone's clock error, seconds
            st.integers(min_value=90, max_value=3600),  # time since the last login
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_property_a_phone_whose_clock_is_right_is_never_locked_out(
    key: bytes, start: int, moves: list[tuple[int, int]]
) -> None:
    # Whatever clock errors the phone had before (and whatever drift they taught), a
    # code from the phone once its clock is right is accepted, and the drift is back
    # within the window.
    now, last, drift = start, -1, 0
    for skew, wait in moves:
        now += wait
        result = totp_check(key, totp(key, now + skew), now, last_step=last, drift=drift)
        if result.accepted:
            assert result.step is not None
            assert result.step > last
            last, drift = result.step, result.drift
        now += 90  # at least the window of a used step later
        right = totp_check(key, totp(key, now), now, last_step=last, drift=drift)
        step = time_step(now)
        assume(not _collides(key, totp(key, now), step, check_steps(step, drift=drift)))
        assert right.accepted
        assert right.step == step
        assert right.drift == 0
        last, drift = right.step, right.drift
