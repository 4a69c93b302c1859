"""Where the apps record: a password lockout, and a 振込予約 cancelled or failing when run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.banking.business_days import JST
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import (
    furikomi_order,
    scheduled_transfers_run,
    transfer_cancel,
    transfer_schedule,
)
from netbank.customers.models import Customer
from netbank.ops import metrics
from netbank.otp.channels.services import channel_verify
from netbank.otp.verification import Result
from tests.banking.factories import customer_with_account, other_bank
from tests.customers.factories import make_customer

pytestmark = pytest.mark.django_db

FRIDAY = datetime.fromisoformat("2026-11-27T01:00:00+00:00")
MONDAY = date(2026, 11, 30)


def _value(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    assert value is not None, (name, labels)
    return value


@pytest.fixture(autouse=True)
def _friday() -> Iterator[None]:
    clock.set_now(FRIDAY)
    try:
        yield
    finally:
        clock.set_now(None)


def test_the_fifth_wrong_password_locks_and_is_counted_once() -> None:
    customer = make_customer()
    lockouts = _value("netbank_lockouts_total", kind="login_password")
    wrong = _value("netbank_login_password_checks_total", channel="web", outcome="wrong_password")
    locked = _value("netbank_login_password_checks_total", channel="web", outcome="locked")
    for _ in range(6):
        Client().post(
            reverse("customers:login"), {"login_id": customer.login_id, "password": "wrong-pw"}
        )
    assert _value("netbank_lockouts_total", kind="login_password") == lockouts + 1
    assert _value(
        "netbank_login_password_checks_total", channel="web", outcome="wrong_password"
    ) == (wrong + 5)
    # The sixth is refused before any password check.
    assert (
        _value("netbank_login_password_checks_total", channel="web", outcome="locked") == locked + 1
    )


def _reserve(customer: Customer, from_account_id: int, amount: int) -> int:
    payee_seed(customer=customer, destination=other_bank("3333333"))
    order = furikomi_order(
        customer=customer,
        from_account_id=from_account_id,
        amount=amount,
        destination=other_bank("3333333"),
        scheduled_for=MONDAY,
    )
    result = transfer_schedule(
        customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32)
    )
    return result.transfer.pk


def test_a_cancelled_and_a_failed_reservation_are_counted() -> None:
    customer, src = customer_with_account(10_000)
    cancelled = _value("netbank_transfers_total", kind="furikomi", outcome="cancelled")
    failed = _value("netbank_transfers_total", kind="furikomi", outcome="failed")
    completed = _value("netbank_transfers_total", kind="furikomi", outcome="completed")
    transfer_cancel(customer=customer, transfer_id=_reserve(customer, src.pk, 1_000))
    _reserve(customer, src.pk, 9_000)
    # The customer is no longer active when Monday's run comes: the run fails it.
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    clock.set_now(datetime(2026, 11, 30, 9, 0, tzinfo=JST))
    assert scheduled_transfers_run().failed == 1
    assert _value("netbank_transfers_total", kind="furikomi", outcome="cancelled") == cancelled + 1
    assert _value("netbank_transfers_total", kind="furikomi", outcome="failed") == failed + 1
    assert _value("netbank_transfers_total", kind="furikomi", outcome="completed") == completed


def test_every_verification_api_call_is_timed_also_one_with_no_token_to_check() -> None:
    timed = _value("netbank_otp_verification_seconds_count")
    checks = sum(
        _value("netbank_credential_checks_total", kind="otp", outcome=o)
        for o in metrics.CREDENTIAL_OUTCOMES
    )
    assert channel_verify(channel="telephone", code="123456", login_id="nosuch9999") == (
        Result.REJECTED
    )
    assert _value("netbank_otp_verification_seconds_count") == timed + 1
    assert (
        sum(
            _value("netbank_credential_checks_total", kind="otp", outcome=o)
            for o in metrics.CREDENTIAL_OUTCOMES
        )
        == checks
    )
