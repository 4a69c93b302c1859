"""振込予約: the business-day calendar, cancelling, and the scheduler's exactly-once run."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from netbank import clock
from netbank.banking.business_days import is_business_day, next_business_day, today_jst
from netbank.banking.errors import BankingError, SigningRejectedError, SigningRequiredError
from netbank.banking.limits import limit_change
from netbank.banking.models import Account, SigningChallenge, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.selectors import ledger_check
from netbank.banking.signing import signing_challenge
from netbank.banking.transfers import (
    furikomi_order,
    scheduled_transfers_run,
    transfer_cancel,
    transfer_execute,
    transfer_schedule,
)
from netbank.customers.models import Customer
from netbank.notifications.models import OutboxMail
from tests.banking.factories import customer_with_account, issue_token, other_bank, sign


def key() -> str:
    return secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 27), True),  # Friday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2026, 11, 23), False),  # 勤労感謝の日 (national holiday, a Monday)
        (date(2026, 12, 30), True),
        (date(2026, 12, 31), False),  # year-end closure
        (date(2027, 1, 1), False),  # 元日
        (date(2027, 1, 4), True),  # first business day of 2027 (a Monday)
        (date(2027, 1, 11), False),  # 成人の日
        (date(2026, 5, 6), False),  # 振替休日 (substitute holiday)
        (date(2026, 9, 22), False),  # 国民の休日 (between two holidays)
    ],
)
def test_business_day_calendar(day: date, expected: bool) -> None:
    assert is_business_day(day) is expected


def test_next_business_day_skips_weekend_holidays_and_year_end() -> None:
    assert next_business_day(date(2026, 11, 27)) == date(2026, 11, 30)
    assert next_business_day(date(2026, 12, 30)) == date(2027, 1, 4)


def test_today_is_the_japanese_calendar_day() -> None:
    # 2026-11-27 01:00 UTC is 10:00 JST; 15:00 UTC is already the 28th in Japan.
    assert today_jst() == date(2026, 11, 27)
    clock.advance(14 * 3600)
    assert today_jst() == date(2026, 11, 28)


pytestmark = pytest.mark.django_db


def schedule(customer: Customer, src: Account, day: date, amount: int = 10_000) -> Transfer:
    order = furikomi_order(
        customer=customer,
        from_account_id=src.pk,
        amount=amount,
        destination=other_bank(),
        scheduled_for=day,
    )
    return transfer_schedule(customer=customer, order=order, idempotency_key=key()).transfer


def registered(balance: int = 100_000) -> tuple[Customer, Account]:
    customer, src = customer_with_account(balance)
    payee_seed(customer=customer, destination=other_bank())
    return customer, src


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 27),  # today
        date(2026, 11, 26),  # past
        date(2026, 11, 28),  # Saturday
        date(2026, 12, 31),  # year-end closure
        date(2027, 3, 1),  # beyond 60 days
    ],
)
def test_scheduling_needs_a_future_business_day_within_range(day: date) -> None:
    customer, src = registered()
    with pytest.raises(BankingError) as exc:
        schedule(customer, src, day)
    assert exc.value.code == "bad_date"
    assert Transfer.objects.count() == 0


def test_scheduled_transfer_moves_no_money_until_its_day_then_exactly_once() -> None:
    customer, src = registered(100_000)
    transfer = schedule(customer, src, date(2026, 11, 30))
    assert transfer.state == Transfer.State.SCHEDULED
    assert OutboxMail.objects.filter(purpose="transfer_scheduled_notice").count() == 1
    assert scheduled_transfers_run().executed == 0  # Friday: not due yet
    src.refresh_from_db()
    assert src.balance == 100_000
    clock.advance(3 * 24 * 3600)  # Monday 30th, 10:00 JST
    first = scheduled_transfers_run()
    second = scheduled_transfers_run()
    assert (first.executed, second.executed) == (1, 0)
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.COMPLETED
    assert transfer.executed_on == date(2026, 11, 30)
    src.refresh_from_db()
    assert src.balance == 90_000
    assert ledger_check() == []
    assert OutboxMail.objects.filter(purpose="transfer_notice").count() == 1


def test_management_command_runs_due_transfers(capsys: pytest.CaptureFixture[str]) -> None:
    customer, src = registered(100_000)
    schedule(customer, src, date(2026, 11, 30))
    clock.advance(3 * 24 * 3600)
    out = StringIO()
    call_command("run_scheduled_transfers", stdout=out)
    assert "executed 1, failed 0" in out.getvalue()
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "ledger OK" in out.getvalue()


def test_cancelled_scheduled_transfer_never_runs() -> None:
    customer, src = registered(100_000)
    transfer = schedule(customer, src, date(2026, 11, 30))
    transfer_cancel(customer=customer, transfer_id=transfer.pk)
    clock.advance(3 * 24 * 3600)
    assert scheduled_transfers_run().executed == 0
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.CANCELLED
    with pytest.raises(BankingError):
        transfer_cancel(customer=customer, transfer_id=transfer.pk)
    src.refresh_from_db()
    assert src.balance == 100_000


def test_executed_transfer_cannot_be_cancelled_and_others_cannot_cancel() -> None:
    customer, src = registered(100_000)
    transfer = schedule(customer, src, date(2026, 11, 30))
    other, _acc = customer_with_account(0)
    with pytest.raises(BankingError):
        transfer_cancel(customer=other, transfer_id=transfer.pk)
    clock.advance(3 * 24 * 3600)
    scheduled_transfers_run()
    with pytest.raises(BankingError):
        transfer_cancel(customer=customer, transfer_id=transfer.pk)


def test_run_rechecks_balance_and_fails_cleanly_with_a_notice() -> None:
    customer, src = registered(20_000)
    transfer = schedule(customer, src, date(2026, 11, 30), amount=15_000)
    schedule(customer, src, date(2026, 11, 30), amount=15_000)
    clock.advance(3 * 24 * 3600)
    summary = scheduled_transfers_run()
    assert (summary.executed, summary.failed) == (1, 1)
    src.refresh_from_db()
    assert src.balance == 5_000
    transfer.refresh_from_db()
    failed = Transfer.objects.get(state=Transfer.State.FAILED)
    assert failed.failure_reason == "insufficient_funds"
    assert failed.entry is None
    assert OutboxMail.objects.filter(purpose="transfer_failed_notice").count() == 1
    assert ledger_check() == []


def test_run_rechecks_the_daily_limit_lowered_after_scheduling() -> None:
    customer, src = registered(500_000)
    schedule(customer, src, date(2026, 11, 30), amount=50_000)
    limit_change(customer=customer, new_limit=10_000)
    clock.advance(3 * 24 * 3600)
    assert scheduled_transfers_run().failed == 1
    assert Transfer.objects.get().failure_reason == "limit_exceeded"


def test_run_refuses_a_suspended_customer() -> None:
    customer, src = registered(100_000)
    schedule(customer, src, date(2026, 11, 30))
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    clock.advance(3 * 24 * 3600)
    assert scheduled_transfers_run().failed == 1
    src.refresh_from_db()
    assert src.balance == 100_000
    assert Transfer.objects.get().failure_reason == "customer_not_active"


def test_scheduled_transfer_to_new_payee_is_signed_when_scheduled() -> None:
    customer, src = customer_with_account(100_000)
    _token, signing_key = issue_token(customer)
    order = furikomi_order(
        customer=customer,
        from_account_id=src.pk,
        amount=5_000,
        destination=other_bank(account_number="5555555"),
        scheduled_for=date(2026, 12, 1),
    )
    with pytest.raises(SigningRequiredError):
        transfer_schedule(customer=customer, order=order, idempotency_key=key())
    challenge = signing_challenge(
        customer=customer,
        purpose=SigningChallenge.Purpose.TRANSFER,
        destination=order.destination,
        amount=order.amount,
        debit_account=src,
        scheduled_for=order.scheduled_for,
    )
    result = transfer_schedule(
        customer=customer,
        order=order,
        idempotency_key=key(),
        challenge_id=challenge.pk,
        signing_code=sign(challenge, signing_key),
    )
    assert result.transfer.signed
    clock.advance(4 * 24 * 3600 + timedelta(hours=1).seconds)
    assert scheduled_transfers_run().executed == 1


def _signed_scheduled(day: date | None):  # type: ignore[no-untyped-def]
    """A 振込 to a new payee signed for ``day`` (None: now); returns what the test needs."""
    customer, src = customer_with_account(100_000)
    _token, signing_key = issue_token(customer)

    def order_for(when: date | None):  # type: ignore[no-untyped-def]
        return furikomi_order(
            customer=customer,
            from_account_id=src.pk,
            amount=5_000,
            destination=other_bank(account_number="5555555"),
            scheduled_for=when,
        )

    challenge = signing_challenge(
        customer=customer,
        purpose=SigningChallenge.Purpose.TRANSFER,
        destination=order_for(day).destination,
        amount=5_000,
        debit_account=src,
        scheduled_for=day,
    )
    return customer, src, order_for, challenge, sign(challenge, signing_key)


@pytest.mark.parametrize(
    ("signed_for", "submitted_for"),
    [
        (date(2026, 12, 1), date(2026, 12, 2)),  # 振込予約 date changed
        (None, date(2026, 12, 1)),  # signed as an immediate 振込, submitted as a 予約
        (date(2026, 12, 1), None),  # signed as a 予約, submitted as immediate
    ],
)
def test_code_signed_for_one_date_does_not_confirm_another(
    signed_for: date | None, submitted_for: date | None
) -> None:
    customer, src, order_for, challenge, code = _signed_scheduled(signed_for)
    submit = transfer_schedule if submitted_for else transfer_execute
    with pytest.raises(SigningRejectedError):
        submit(
            customer=customer,
            order=order_for(submitted_for),
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=code,
        )
    assert Transfer.objects.count() == 0
    src.refresh_from_db()
    assert src.balance == 100_000
    # The code still confirms the date it was signed for.
    submit = transfer_schedule if signed_for else transfer_execute
    assert submit(
        customer=customer,
        order=order_for(signed_for),
        idempotency_key=key(),
        challenge_id=challenge.pk,
        signing_code=code,
    ).transfer.signed


def test_scheduled_amount_above_the_limit_is_refused_when_scheduling() -> None:
    customer, src = registered(5_000_000)
    with pytest.raises(BankingError):
        schedule(customer, src, date(2026, 11, 30), amount=100_001)  # no token: capped
