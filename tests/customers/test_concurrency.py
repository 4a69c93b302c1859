"""Races across processes, on PostgreSQL row locks: the throttle never loses a count,
and a burst of parallel guesses gets no more password checks than the lockout allows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import pytest
from django.db import connection

from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import ThrottleBucket
from netbank.customers.services import login_check_password, transaction_password_check
from netbank.customers.throttle import throttle_hit
from tests.customers.factories import TRANSACTION_PASSWORD, make_customer
from tests.customers.support import counting_hasher

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")
WORKERS = 12


def _in_parallel(fn: Callable[[int], T], n: int = WORKERS) -> list[T]:
    """Run ``fn(i)`` in ``n`` threads released at once, each with its own connection."""
    barrier = threading.Barrier(n)
    results: list[T | None] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return [r for r in results if r is not None]


def test_parallel_throttle_hits_are_all_counted(frozen_clock: datetime) -> None:
    results = _in_parallel(
        lambda i: throttle_hit(scope="test", key="203.0.113.1", limit=5, window_seconds=60)
    )
    assert sorted(r.count for r in results) == list(range(1, WORKERS + 1))
    assert sum(r.allowed for r in results) == 5
    assert ThrottleBucket.objects.get(key="test:203.0.113.1").count == WORKERS


def test_parallel_wrong_passwords_get_only_five_checks(
    frozen_clock: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = make_customer()
    with counting_hasher(monkeypatch) as calls:
        outcomes = _in_parallel(
            lambda i: login_check_password(
                login_id=customer.login_id, password=f"guess-{i}", ip=f"192.0.2.{i + 1}"
            )
        )
    assert calls.verify == 5  # the other seven waited on the counter row and found it locked
    assert sum(o.result == "locked" for o in outcomes) == WORKERS - 4
    assert lockout.lockout_status(
        kind=lockout.LOGIN_PASSWORD, subject=lockout.subject_for_customer(customer)
    ).locked


def test_the_right_password_in_a_parallel_burst_does_not_slip_past_the_lock(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    # Eleven wrong guesses and the right one, all at once. The checks run one at a time
    # on the counter row, so the audit trail is their true order; replay it against the
    # rule: after five failures in a row, everything is refused, the right one included.
    _in_parallel(
        lambda i: transaction_password_check(
            customer=customer, password=TRANSACTION_PASSWORD if i == 0 else f"guess-{i}"
        )
    )
    events = list(
        AuditRecord.objects.filter(
            customer_id=customer.pk, event__startswith="transaction_password."
        )
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert len(events) == WORKERS
    consecutive, locked = 0, False
    for event in events:
        if locked:
            assert event == "transaction_password.refused_locked", events
        elif event == "transaction_password.accepted":
            consecutive = 0
        else:
            assert event == "transaction_password.rejected", events
            consecutive += 1
            locked = consecutive == 5
    assert locked
