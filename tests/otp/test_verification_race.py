"""One OTP submitted at the same moment by several app processes on one PostgreSQL.

Exactly one may be accepted: the row lock and the conditional UPDATE of ``last_step``
make the second verifier see the first one's step. These tests use real separate
database connections (threads, and spawned processes) against the real test database.
"""

from __future__ import annotations

import threading
import time as clock_time
from datetime import datetime

import pytest
from django.conf import settings
from django.db import connection, transaction

from netbank import clock
from netbank.customers import lockout
from netbank.customers.models import FailureCounter
from netbank.oath.totp import totp
from netbank.otp.channels.services import channel_verify
from netbank.otp.models import Token
from netbank.otp.verification import Result, otp_verify
from tests.otp import race_worker
from tests.otp.factories import SEED, in_use_token
from tests.races import results_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _verify_in_thread(
    token_pk: int, code: str, barrier: threading.Barrier, results: list[Result]
) -> None:
    try:
        token = Token.objects.select_related("customer").get(pk=token_pk)
        barrier.wait(timeout=30)
        results.append(otp_verify(token=token, code=code, channel="race").result)
    finally:
        connection.close()  # each thread had its own connection


@pytest.mark.parametrize("verifiers", [2, 8])
def test_same_otp_at_once_from_many_connections_is_accepted_exactly_once(
    frozen_clock: datetime, verifiers: int
) -> None:
    token = in_use_token()
    for _ in range(5):  # several rounds, each a fresh step, to give the race a chance
        code = totp(SEED, clock.timestamp())
        barrier = threading.Barrier(verifiers)
        results: list[Result] = []
        threads = [
            threading.Thread(target=_verify_in_thread, args=(token.pk, code, barrier, results))
            for _ in range(verifiers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(results) == verifiers
        assert results.count(Result.ACCEPTED) == 1
        clock.advance(30)
        # Clear the failures the losers counted, so the next round is not a lockout.
        FailureCounter.objects.all().delete()


def test_same_otp_at_once_from_two_processes_is_accepted_exactly_once(
    frozen_clock: datetime,
) -> None:
    token = in_use_token()
    code = totp(SEED, clock.timestamp())
    db_name = str(settings.DATABASES["default"]["NAME"])
    results = results_at_once(
        race_worker.verify_in_process, db_name, clock.now().isoformat(), token.pk, code
    )
    assert results == [Result.ACCEPTED.value, Result.REJECTED.value]
    token.refresh_from_db()
    assert token.last_step == int(clock.timestamp()) // 30


def _wrong_code() -> str:
    """A code no step in the verification window gives."""
    now = clock.timestamp()
    window = {totp(SEED, now + 30 * offset) for offset in range(-3, 4)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)


def _wait_until_blocked_on_a_lock(timeout: float = 10.0) -> None:
    deadline = clock_time.monotonic() + timeout
    with connection.cursor() as cursor:
        while clock_time.monotonic() < deadline:
            # Activity is read once per transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            clock_time.sleep(0.02)
    raise AssertionError("the second check never waited for the row lock")


@pytest.mark.parametrize("via", ["web", "channel"])
def test_a_right_code_queued_behind_the_fifth_failure_is_locked_not_accepted(
    frozen_clock: datetime, via: str
) -> None:
    # The check reads the lockout in the statement that takes the token's lock. Had it
    # read the counter without locking it, the statement's snapshot would predate the
    # fifth failure it waited for, and this right code would be accepted.
    token = in_use_token()
    FailureCounter.objects.create(
        kind=lockout.OTP,
        subject=f"customer:{token.customer_id}",
        consecutive_failures=4,
        updated_at=clock.now(),
    )
    right = totp(SEED, clock.timestamp())
    last_step = token.last_step
    results: list[Result] = []

    def check_right_code() -> None:
        try:
            if via == "web":
                fresh = Token.objects.get(pk=token.pk)
                results.append(otp_verify(token=fresh, code=right, channel="web").result)
            else:
                results.append(channel_verify(channel="tel", code=right, user_id=token.user_id))
        finally:
            connection.close()

    waiting = threading.Thread(target=check_right_code)
    with transaction.atomic():
        fifth = otp_verify(token=token, code=_wrong_code(), channel="web")
        assert fifth.result is Result.LOCKED
        waiting.start()
        _wait_until_blocked_on_a_lock()
    waiting.join(timeout=30)
    assert results == [Result.LOCKED]
    token.refresh_from_db()
    assert token.last_step == last_step
