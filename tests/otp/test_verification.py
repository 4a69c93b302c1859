"""OTP verification rules (otp.verification), each with the test that tries to break it."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import FailureCounter
from netbank.notifications.models import OutboxMail
from netbank.oath.totp import totp
from netbank.otp.models import Token
from netbank.otp.verification import MAX_DRIFT_STEPS, Result, otp_verify
from tests.otp.factories import SEED, in_use_token

pytestmark = pytest.mark.django_db


def _code(step_offset: int = 0, *, seed: bytes = SEED, digits: int = 6, period: int = 30) -> str:
    """The code a device shows ``step_offset`` steps away from the server's now."""
    return totp(seed, clock.timestamp() + step_offset * period, period=period, digits=digits)


def _verify(token: Token, code: str, **kw: object) -> Result:
    return otp_verify(token=token, code=code, channel="test", **kw).result  # type: ignore[arg-type]


def _step() -> int:
    return int(clock.timestamp()) // 30


@pytest.fixture
def token(frozen_clock: datetime) -> Token:
    return in_use_token()


def test_current_code_is_accepted_and_becomes_the_last_step(token: Token) -> None:
    assert _verify(token, _code()) is Result.ACCEPTED
    token.refresh_from_db()
    assert token.last_step == _step()
    assert token.drift_steps == 0
    assert AuditRecord.objects.filter(event="otp.accepted", customer_id=token.customer_id).exists()


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_either_way_is_accepted(token: Token, offset: int) -> None:
    assert _verify(token, _code(offset)) is Result.ACCEPTED


@pytest.mark.parametrize("offset", [-2, 2, -10])
def test_code_two_or_more_steps_away_is_refused(token: Token, offset: int) -> None:
    assert _verify(token, _code(offset)) is Result.REJECTED
    token.refresh_from_db()
    assert token.last_step == -1


def test_otp_from_two_steps_ago_is_refused(token: Token) -> None:
    stale = _code()
    clock.advance(60)
    assert _verify(token, stale) is Result.REJECTED


def test_same_otp_twice_is_refused(token: Token) -> None:
    code = _code()
    assert _verify(token, code) is Result.ACCEPTED
    assert _verify(token, code) is Result.REJECTED
    assert AuditRecord.objects.filter(event="otp.rejected", data__replay=True).count() == 1


def test_same_otp_is_refused_later_in_the_window_too(token: Token) -> None:
    code = _code()
    assert _verify(token, code) is Result.ACCEPTED
    clock.advance(30)  # the code is now one step old: inside the window, but used
    assert _verify(token, code) is Result.REJECTED


def test_older_code_after_a_newer_one_is_refused(token: Token) -> None:
    newer, older = _code(1), _code(0)
    assert _verify(token, newer) is Result.ACCEPTED
    assert _verify(token, older) is Result.REJECTED


def test_drift_of_a_fast_device_is_learned(token: Token) -> None:
    # The phone runs one step ahead: its code is accepted at the edge of the window...
    assert _verify(token, _code(1)) is Result.ACCEPTED
    token.refresh_from_db()
    assert token.drift_steps == 1
    # ...and the window now follows it: two steps ahead of the server is accepted,
    clock.advance(300)
    assert _verify(token, _code(2)) is Result.ACCEPTED
    token.refresh_from_db()
    assert token.drift_steps == 2


def test_without_learned_drift_two_steps_ahead_is_refused(token: Token) -> None:
    assert _verify(token, _code(2)) is Result.REJECTED


def _phone_code(skew_seconds: int, *, seed: bytes = SEED) -> str:
    """The code a phone whose clock is ``skew_seconds`` off the bank's shows now."""
    return totp(seed, clock.timestamp() + skew_seconds)


def _at_second_of_step(second: int) -> None:
    """Move the bank's clock forward past the next step boundary, to ``second`` of a step."""
    clock.advance(30 * 3 - clock.timestamp() % 30 + second)


def _learn_forty_seconds_fast(token: Token) -> None:
    # A phone 40 s fast, once early in a step (code one step ahead), once late in one
    # (two steps ahead): the bank learns a drift of two steps.
    _at_second_of_step(5)
    assert _verify(token, _phone_code(40)) is Result.ACCEPTED
    _at_second_of_step(25)
    assert _verify(token, _phone_code(40)) is Result.ACCEPTED
    token.refresh_from_db()
    assert token.drift_steps == 2


def test_learned_drift_keeps_the_true_time_open_for_a_corrected_clock(token: Token) -> None:
    _learn_forty_seconds_fast(token)
    # The customer sets the phone's clock right: its codes are the bank's own.
    for second in (5, 25, 15):
        _at_second_of_step(second)
        assert _verify(token, _phone_code(0)) is Result.ACCEPTED
    token.refresh_from_db()
    assert token.drift_steps == 0  # the drift moved back with the corrected clock
    assert not AuditRecord.objects.filter(event="otp.rejected").exists()


def test_clock_moved_forty_seconds_fast_then_right_then_forty_seconds_slow(token: Token) -> None:
    accepted_steps = []
    for skew, second, drift in [
        (40, 5, 1),
        (40, 25, 2),  # learned: +2 steps
        (0, 5, 0),  # put right: accepted at once, the drift moves back
        (0, 25, 0),
        (-40, 25, -1),  # 40 s slow, late in a step: one step behind
        (-40, 5, -2),  # early in a step: two steps behind, inside the learned drift
        (0, 15, 0),  # and right again
    ]:
        _at_second_of_step(second)
        code = _phone_code(skew)
        assert _verify(token, code) is Result.ACCEPTED, (skew, second)
        token.refresh_from_db()
        assert token.drift_steps == drift, (skew, second)
        accepted_steps.append(token.last_step)
        assert _verify(token, code) is Result.REJECTED  # and never twice
    assert accepted_steps == sorted(set(accepted_steps))
    assert not AuditRecord.objects.filter(event="otp.rejected", data__replay=False).exists()


def test_a_corrected_clock_right_after_a_fast_login_waits_for_a_later_step(token: Token) -> None:
    _learn_forty_seconds_fast(token)
    # Put right at once: the true time's step is before the last accepted one (two
    # steps ahead), so its code is refused as used until the bank's clock passes it.
    assert _verify(token, _phone_code(0)) is Result.REJECTED
    assert AuditRecord.objects.filter(event="otp.rejected", data__replay=True).count() == 1
    clock.advance(60)  # the bank's step is now the last accepted one: still used
    assert _verify(token, _phone_code(0)) is Result.REJECTED
    clock.advance(30)
    assert _verify(token, _phone_code(0)) is Result.ACCEPTED


def test_learned_drift_window_is_open_besides_the_true_time(token: Token) -> None:
    Token.objects.filter(pk=token.pk).update(drift_steps=3)
    assert _verify(token, _code(2)) is Result.ACCEPTED  # the drift's window: 3 ± 1
    clock.advance(300)
    assert _verify(token, _code(-1)) is Result.ACCEPTED  # the true time's: 0 ± 1
    token.refresh_from_db()
    assert token.drift_steps == -1


def test_between_the_two_windows_is_refused(token: Token) -> None:
    Token.objects.filter(pk=token.pk).update(drift_steps=4)
    assert _verify(token, _code(2)) is Result.REJECTED  # neither 0 ± 1 nor 4 ± 1
    assert _verify(token, _code(-2)) is Result.REJECTED


def test_learned_drift_is_bounded(token: Token) -> None:
    Token.objects.filter(pk=token.pk).update(drift_steps=MAX_DRIFT_STEPS)
    assert _verify(token, _code(MAX_DRIFT_STEPS + 1)) is Result.ACCEPTED
    token.refresh_from_db()
    assert token.drift_steps == MAX_DRIFT_STEPS


def test_sixth_wrong_otp_locks_token(token: Token) -> None:
    results = [_verify(token, "000000") for _ in range(5)]
    assert results == [Result.REJECTED] * 4 + [Result.LOCKED]
    # The sixth try is refused even with the right code, and not counted again.
    assert _verify(token, _code()) is Result.LOCKED
    token.refresh_from_db()
    assert token.last_step == -1
    status = lockout.lockout_status(kind=lockout.OTP, subject=f"customer:{token.customer_id}")
    assert status.locked
    notice = OutboxMail.objects.get(purpose="lock_notice")
    assert notice.to_addr == token.customer.email
    assert mail.outbox == []  # queued in the outbox, sent by the worker


def test_lock_lifts_after_thirty_minutes(token: Token) -> None:
    for _ in range(5):
        _verify(token, "000000")
    clock.advance(30 * 60)
    assert _verify(token, _code()) is Result.ACCEPTED


def test_a_right_code_resets_the_consecutive_count(token: Token) -> None:
    for _ in range(4):
        _verify(token, "000000")
    assert _verify(token, _code()) is Result.ACCEPTED
    clock.advance(30)
    for _ in range(4):
        assert _verify(token, "000000") is Result.REJECTED
    counter = FailureCounter.objects.get(kind=lockout.OTP)
    assert counter.consecutive_failures == 4


def test_lockout_is_per_customer_across_tokens_and_channels(frozen_clock: datetime) -> None:
    first = in_use_token()
    second = in_use_token(first.customer, state=Token.State.ACTIVATED)
    for channel in ("web", "direct", "web", "direct"):
        assert otp_verify(token=first, code="000000", channel=channel).result is Result.REJECTED
    result = otp_verify(
        token=second, code="000000", channel="web", states=(Token.State.ACTIVATED,)
    ).result
    assert result is Result.LOCKED


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12345a", "１２３４５６", " 123456"])
def test_malformed_codes_are_refused_and_counted(token: Token, code: str) -> None:
    assert _verify(token, code) is Result.REJECTED
    assert FailureCounter.objects.get(kind=lockout.OTP).consecutive_failures == 1


@pytest.mark.parametrize(
    "state",
    [Token.State.SUSPENDED, Token.State.REVOKED, Token.State.ACTIVATED, Token.State.VOIDED],
)
def test_token_not_in_use_never_accepts(frozen_clock: datetime, state: str) -> None:
    token = in_use_token(state=state)
    assert _verify(token, _code()) is Result.REJECTED


def test_activated_token_is_accepted_where_the_caller_allows_it(frozen_clock: datetime) -> None:
    token = in_use_token(state=Token.State.ACTIVATED)
    assert _verify(token, _code(), states=(Token.State.ACTIVATED,)) is Result.ACCEPTED


def test_eight_digit_sixty_second_tokens(frozen_clock: datetime) -> None:
    token = in_use_token(digits=8, period=60)
    assert _verify(token, _code(digits=8, period=60)) is Result.ACCEPTED
    assert _verify(token, _code(-2, digits=8, period=60)) is Result.REJECTED


def test_seed_copied_from_another_token_does_not_open(frozen_clock: datetime) -> None:
    """An attacker with database write access copies their own token's sealed secret
    onto the victim's row: the AAD binds it to its token and customer, so it fails."""
    victim = in_use_token(seed=bytes(20))
    attacker = in_use_token(seed=bytes(range(50, 70)))
    Token.objects.filter(pk=victim.pk).update(
        secret_key_id=attacker.secret_key_id,
        secret_nonce=attacker.secret_nonce,
        secret_ciphertext=attacker.secret_ciphertext,
    )
    victim.refresh_from_db()
    assert _verify(victim, _code(seed=bytes(range(50, 70)))) is Result.REJECTED
    assert AuditRecord.objects.filter(
        event="otp.unseal_failed", customer_id=victim.customer_id
    ).exists()
    # The victim is not locked out for the attacker's doing.
    # (Its counter row exists from the first check, with nothing counted.)
    assert not FailureCounter.objects.filter(
        subject=f"customer:{victim.customer_id}", consecutive_failures__gt=0
    ).exists()


def test_verification_locks_the_token_row_and_updates_conditionally(token: Token) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert _verify(token, _code()) is Result.ACCEPTED
    sql = [q["sql"] for q in queries.captured_queries]
    if connection.features.has_select_for_update:
        assert any('FROM "otp_token"' in s and "FOR UPDATE OF t, f" in s for s in sql)
    update = next(s for s in sql if 'UPDATE "otp_token"' in s)
    assert '"last_step" <' in update


def test_a_check_on_an_existing_counter_is_two_statements_on_postgresql(token: Token) -> None:
    # The lock (the token with its lockout counter), then the conditional update with the
    # audit append it guards; the first check made the counter row.
    assert _verify(token, _code()) is Result.ACCEPTED
    clock.advance(30)
    with CaptureQueriesContext(connection) as queries:
        assert _verify(token, _code()) is Result.ACCEPTED
    sql = [q["sql"] for q in queries.captured_queries]
    statements = [s for s in sql if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    expected = 2 if connection.vendor == "postgresql" else 5
    assert len(statements) == expected, sql
