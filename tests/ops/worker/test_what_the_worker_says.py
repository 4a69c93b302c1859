"""What the worker prints: news (a 振込予約 executed, a job's failure), not routine."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta

import pytest

from netbank import clock
from netbank.banking.business_days import next_business_day, today_jst
from netbank.banking.models import Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import furikomi_order, transfer_schedule
from netbank.ops.worker.runner import Runner
from netbank.ops.worker.schedule import (
    PURGE_LOGIN_COUNTERS,
    PURGE_OTP_SESSIONS,
    PURGE_PASSKEY_CHALLENGES,
    SCHEDULED_TRANSFERS,
)
from tests.banking.factories import customer_with_account, other_bank

# The runner replaces broken connections between turns, as a long-running process must;
# inside a test transaction that would close it: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def test_housekeeping_jobs_run_and_stay_quiet(frozen_clock: datetime) -> None:
    said: list[str] = []
    runner = Runner(
        [PURGE_LOGIN_COUNTERS, PURGE_OTP_SESSIONS, PURGE_PASSKEY_CHALLENGES],
        stop=threading.Event(),
        say=said.append,
    )

    assert runner.run_turn() == [
        "purge_login_counters",
        "purge_otp_sessions",
        "purge_passkey_challenges",
    ]
    assert said == []


def test_the_passkey_challenge_job_deletes_challenges_expired_over_an_hour_ago(
    frozen_clock: datetime,
) -> None:
    from netbank.passkeys import services
    from netbank.passkeys.models import PasskeyChallenge

    clock.set_now(frozen_clock - timedelta(seconds=300))
    services.login_options()  # a login page's challenge, never answered: expires at 01:00
    clock.set_now(frozen_clock + timedelta(seconds=3600 - 1))  # 01:59:59
    services.login_options()
    runner = Runner([PURGE_PASSKEY_CHALLENGES], stop=threading.Event())

    assert runner.run_turn() == ["purge_passkey_challenges"]
    assert PasskeyChallenge.objects.count() == 2  # expired, but not an hour ago yet
    clock.advance(2)  # 02:00:01, the next hour's run
    assert runner.run_turn() == ["purge_passkey_challenges"]
    assert PasskeyChallenge.objects.count() == 1


def test_a_due_scheduled_transfer_is_executed_and_reported(frozen_clock: datetime) -> None:
    customer, account = customer_with_account()
    payee = other_bank()
    payee_seed(customer=customer, destination=payee, nickname="取引先")
    day = next_business_day(today_jst())
    order = furikomi_order(
        customer=customer,
        from_account_id=account.pk,
        amount=12_000,
        destination=payee,
        scheduled_for=day,
    )
    transfer = transfer_schedule(
        customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32)
    ).transfer
    said: list[str] = []
    runner = Runner([SCHEDULED_TRANSFERS], stop=threading.Event(), say=said.append)

    assert runner.run_turn() == ["run_scheduled_transfers"]
    assert said == []  # nothing due: nothing printed
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.SCHEDULED

    clock.advance(int(timedelta(days=(day - today_jst()).days).total_seconds()))
    assert runner.run_turn() == ["run_scheduled_transfers"]

    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.COMPLETED
    assert said == [
        f"[{SCHEDULED_TRANSFERS.label}] scheduled transfers: executed 1, failed 0, skipped 0"
    ]
