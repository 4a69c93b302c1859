"""One OTP submitted at the same moment by several app processes on one PostgreSQL.

Exactly one may be accepted: the row lock and the conditional UPDATE of ``last_step``
make the second verifier see the first one's step. These tests use real separate
database connections (threads, and spawned processes) against the real test database.
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime

import pytest
from django.conf import settings
from django.db import connection

from netbank import clock
from netbank.customers.models import FailureCounter
from netbank.oath.totp import totp
from netbank.otp.models import Token
from netbank.otp.verification import Result, otp_verify
from tests.otp import race_worker
from tests.otp.factories import SEED, in_use_token

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
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    queue = context.Queue()
    db_name = str(settings.DATABASES["default"]["NAME"])
    processes = [
        context.Process(
            target=race_worker.verify_in_process,
            args=(db_name, clock.now().isoformat(), token.pk, code, barrier, queue),
        )
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    try:
        results = sorted(queue.get(timeout=90) for _ in processes)
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
    assert results == [Result.ACCEPTED.value, Result.REJECTED.value]
    token.refresh_from_db()
    assert token.last_step == int(clock.timestamp()) // 30
