"""The demo's periodic jobs: the bank's cron commands on a timer, in threads."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from netbank import clock
from netbank.banking.business_days import next_business_day, today_jst
from netbank.banking.models import Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import furikomi_order, transfer_schedule
from netbank.demo.jobs import (
    AUDIT_CHECKPOINT,
    PURGE_LOGIN_COUNTERS,
    PURGE_OTP_SESSIONS,
    PURGE_PASSKEY_CHALLENGES,
    SCHEDULED_TRANSFERS,
    PeriodicJob,
    available_jobs,
    run_once,
    run_periodic,
    start_jobs,
)
from tests.banking.factories import customer_with_account, other_bank

pytestmark = pytest.mark.django_db


class Turns:
    """A ``wait`` for run_periodic that lets the loop turn ``n`` times, then stops it."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.waited: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.waited.append(seconds)
        self.left -= 1
        return self.left <= 0


@pytest.fixture
def checkpoints(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "checkpoints"
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(folder)
    return folder


def _lines(folder: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in folder.glob("*.jsonl"))


def test_every_cron_command_exists_so_the_demo_runs_them_all() -> None:
    assert available_jobs() == [
        SCHEDULED_TRANSFERS,
        AUDIT_CHECKPOINT,
        PURGE_LOGIN_COUNTERS,
        PURGE_OTP_SESSIONS,
        PURGE_PASSKEY_CHALLENGES,
    ]
    assert SCHEDULED_TRANSFERS.interval == 60
    assert 60 < AUDIT_CHECKPOINT.interval <= 600
    assert (
        PURGE_LOGIN_COUNTERS.interval
        == PURGE_OTP_SESSIONS.interval
        == PURGE_PASSKEY_CHALLENGES.interval
        == 3600
    )


def test_housekeeping_jobs_run_and_stay_quiet() -> None:
    said: list[str] = []
    assert run_once(PURGE_LOGIN_COUNTERS, say=said.append)
    assert run_once(PURGE_OTP_SESSIONS, say=said.append)
    assert said == []


def test_the_passkey_challenge_job_deletes_challenges_expired_over_an_hour_ago(
    frozen_clock: datetime,
) -> None:
    from netbank.passkeys import services
    from netbank.passkeys.models import PasskeyChallenge

    services.login_options()  # a login page's challenge, never answered
    clock.advance(300 + 3600 - 1)
    services.login_options()
    said: list[str] = []

    assert run_once(PURGE_PASSKEY_CHALLENGES, say=said.append)
    assert PasskeyChallenge.objects.count() == 2  # expired, but not an hour ago yet
    clock.advance(2)
    assert run_once(PURGE_PASSKEY_CHALLENGES, say=said.append)

    assert PasskeyChallenge.objects.count() == 1
    assert said == []  # housekeeping stays out of the console


def test_a_due_scheduled_transfer_is_executed_by_the_job_and_reported(
    frozen_clock: datetime,
) -> None:
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

    assert run_once(SCHEDULED_TRANSFERS, say=said.append)
    assert said == []  # nothing due: nothing printed
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.SCHEDULED

    days = (day - today_jst()).days
    clock.advance(int(timedelta(days=days).total_seconds()))
    assert run_once(SCHEDULED_TRANSFERS, say=said.append)

    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.COMPLETED
    assert said == [
        f"[{SCHEDULED_TRANSFERS.label}] scheduled transfers: executed 1, failed 0, skipped 0"
    ]


@pytest.mark.django_db(transaction=True)
def test_the_job_runs_at_start_and_at_every_turn_and_checkpoints_once_more_at_stop(
    checkpoints: Path,
) -> None:
    stop = threading.Event()
    turns = Turns(3)
    said: list[str] = []

    run_periodic(AUDIT_CHECKPOINT, stop=stop, say=said.append, wait=turns)

    assert turns.waited == [AUDIT_CHECKPOINT.interval] * 3
    assert _lines(checkpoints) == 4  # start, two turns, and the one at stop
    assert said == []  # routine checkpoints stay out of the console


@pytest.mark.django_db(transaction=True)
def test_a_failing_command_is_reported_and_the_job_carries_on(
    settings: Any, checkpoints: Path
) -> None:
    settings.NETBANK_AUDIT_MAC_KEY = "too-short"
    said: list[str] = []
    job = PeriodicJob(command="audit_checkpoint", label="cp", interval=1.0)

    run_periodic(job, stop=threading.Event(), say=said.append, wait=Turns(2))

    assert len(said) == 2  # both turns ran, each said why it failed
    assert all(line.startswith("[cp] ") and "NETBANK_AUDIT_MAC_KEY" in line for line in said)
    assert _lines(checkpoints) == 0


@pytest.mark.django_db(transaction=True)
def test_job_threads_stop_when_told(checkpoints: Path) -> None:
    stop = threading.Event()
    said: list[str] = []
    job = PeriodicJob(command="audit_checkpoint", label="cp", interval=3600.0, run_at_stop=True)

    threads = start_jobs([job], stop=stop, say=said.append)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert threads[0].name == "netbank-audit-checkpoint"
    assert 1 <= _lines(checkpoints) <= 2
