"""Token issue and 利用開始 under concurrency, on PostgreSQL with real row locks.

Two browser tabs or two app nodes acting for one customer at once must leave exactly
the state one would: one pending issue, one token in use, no deadlock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from netbank.customers.models import Customer
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from netbank.otp.tokens import services
from tests.otp.test_screens_support import (
    ACTIVATION_PASSWORD,
    activate,
    current_code,
    make_customer,
)

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_clock"),
]


def _parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread and DB connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except BaseException as exc:  # reported to the test thread below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a request never finished (deadlock?)"
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def _issue(customer: Customer, email: str) -> Callable[[], Token]:
    return lambda: services.token_issue(
        customer=customer, email=email, activation_password=ACTIVATION_PASSWORD, ip=None
    )


def test_parallel_issues_leave_exactly_one_pending_token() -> None:
    customer = make_customer()
    _parallel(*(_issue(customer, f"tab{i}@phone.example.jp") for i in range(4)))
    assert Token.objects.filter(customer=customer, state=Token.State.ISSUED).count() == 1
    assert Token.objects.filter(customer=customer, state=Token.State.VOIDED).count() == 3
    assert OutboxMail.objects.filter(purpose="otp_token_mail").count() == 4
    assert OutboxMail.objects.filter(purpose="otp_issue_notice").count() == 4


def test_the_same_code_submitted_twice_at_once_starts_use_once() -> None:
    customer = make_customer()
    token = _issue(customer, "p@phone.example.jp")()
    activate(token)
    code = current_code(token)
    outcomes = _parallel(
        *(lambda: services.token_start_use(customer=customer, code=code, ip=None) for _ in range(3))
    )
    assert sum(1 for o in outcomes if o.started) == 1
    assert Token.objects.filter(customer=customer, state=Token.State.IN_USE).count() == 1
    assert OutboxMail.objects.filter(purpose="otp_start_use_notice").count() == 1


def test_reissue_racing_start_use_never_leaves_two_tokens_in_use() -> None:
    customer = make_customer()
    old = _issue(customer, "old@phone.example.jp")()
    activate(old)
    assert services.token_start_use(customer=customer, code=current_code(old), ip=None).started
    new = _issue(customer, "new@phone.example.jp")()
    activate(new)
    code = current_code(new)
    start = lambda: services.token_start_use(customer=customer, code=code, ip=None)  # noqa: E731
    outcomes = _parallel(start, _issue(customer, "third@phone.example.jp"))
    in_use = Token.objects.filter(customer=customer, state=Token.State.IN_USE)
    assert in_use.count() == 1
    started = outcomes[0]
    if started.started:
        # 利用開始 won: the new token is in use, the old revoked, the third replaces the new.
        assert in_use.get() == new
        assert Token.objects.get(pk=old.pk).state == Token.State.REVOKED
        assert Token.objects.get(email="third@phone.example.jp").replaces_id == new.pk
    else:
        # The issue won: the new token was voided first, the old is still in use (and
        # the third issue, not yet set up, is what 利用開始 now finds).
        assert started.result in (
            services.StartUseResult.NO_TOKEN,
            services.StartUseResult.NOT_SET_UP,
        )
        assert in_use.get() == old
        assert Token.objects.get(pk=new.pk).state == Token.State.VOIDED
        assert Token.objects.get(email="third@phone.example.jp").replaces_id == old.pk
