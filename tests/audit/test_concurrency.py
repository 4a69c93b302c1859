"""Appends from many connections at once (PostgreSQL row locks).

Only a chain's head row is locked: appends for another customer go straight through
while one customer's transaction is open, and parallel appends to one chain come out
as one unbroken chain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from netbank import clock
from netbank.audit import verify
from netbank.audit.models import AuditRecord
from netbank.audit.services import record
from netbank.audit.verify import audit_verify
from netbank.oath.totp import totp
from netbank.otp.verification import Result, otp_verify
from tests.otp.factories import SEED, in_use_token

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _lock_timeout(ms: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{int(ms)}ms'")


class HeldTransaction:
    """Another connection that runs ``work`` in a transaction and keeps it open."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.work = work
        self.holding = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self.work()
                self.holding.set()
                assert self.release.wait(timeout=60)
        except BaseException as exc:  # reported by the test thread
            self.error = exc
            self.holding.set()
        finally:
            connection.close()

    def __enter__(self) -> HeldTransaction:
        self.thread.start()
        assert self.holding.wait(timeout=60)
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(timeout=60)
        assert self.error is None, self.error


def test_an_open_append_for_one_customer_does_not_block_another_customer() -> None:
    # Would wait for the other transaction (and time out) if appends shared a lock.
    held = HeldTransaction(lambda: record("login.succeeded", customer_id=1, channel="web"))
    with held, transaction.atomic():
        _lock_timeout(2000)
        record("login.succeeded", customer_id=2, channel="web")
        record("helpdesk.login", operator_id=5)
    assert AuditRecord.objects.count() == 3


def test_an_open_append_holds_its_own_chain_until_commit() -> None:
    record("login.succeeded", customer_id=1, channel="web")

    def append_waiting_at_most_200ms() -> None:
        with transaction.atomic():
            _lock_timeout(200)
            record("otp.rejected", customer_id=1, channel="web")

    held = HeldTransaction(lambda: record("otp.accepted", customer_id=1, channel="web"))
    with held, pytest.raises(OperationalError, match="lock timeout"):
        append_waiting_at_most_200ms()
    assert record("otp.rejected", customer_id=1, channel="web").seq == 3


def test_otp_verification_of_two_customers_never_waits_on_the_audit(
    frozen_clock: datetime,
) -> None:
    first, second = in_use_token(), in_use_token()
    code = totp(SEED, clock.timestamp())

    def verify_first() -> None:
        assert otp_verify(token=first, code=code, channel="web").result is Result.ACCEPTED

    with HeldTransaction(verify_first), transaction.atomic():
        _lock_timeout(2000)
        assert otp_verify(token=second, code=code, channel="web").result is Result.ACCEPTED
    assert audit_verify(checkpoint_dir=None).ok


@pytest.mark.parametrize("writers", [2, 8])
def test_parallel_appends_to_one_new_chain_form_one_unbroken_chain(writers: int) -> None:
    per_writer = 12
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(per_writer):
                record("test.parallel", customer_id=42, writer=n, i=i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    seqs = list(AuditRecord.objects.filter(chain="customer:42").values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, writers * per_writer + 1))
    report = audit_verify(checkpoint_dir=None)
    assert report.ok, [str(f) for f in report.findings]


def test_verification_sees_one_snapshot_while_appends_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An append committed between reading the heads and the records is not a finding."""
    record("login.succeeded", customer_id=1, channel="web")
    real_rows = verify._rows

    def rows_after_another_append() -> Iterator[dict[str, Any]]:
        appender = threading.Thread(target=_append_elsewhere)
        appender.start()
        appender.join(timeout=60)
        yield from real_rows()

    monkeypatch.setattr(verify, "_rows", rows_after_another_append)
    report = audit_verify(checkpoint_dir=None)
    assert report.ok, [str(f) for f in report.findings]
    assert report.records == 1
    assert AuditRecord.objects.count() == 2


def _append_elsewhere() -> None:
    try:
        record("otp.accepted", customer_id=1, channel="web")
    finally:
        connection.close()
