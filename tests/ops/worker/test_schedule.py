"""The worker's schedule: periods, the first run, missed periods collapsing into one run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from netbank import clock
from netbank.ops.models import JobRun
from netbank.ops.worker.runner import Runner
from netbank.ops.worker.schedule import (
    AUDIT_CHECKPOINT,
    CHECK_LEDGER,
    CLEAR_SESSIONS,
    DAY,
    HOUR,
    MINUTE,
    PERIODIC_JOBS,
    PURGE_OUTBOX,
    SCHEDULED_TRANSFERS,
    VERIFY_AUDIT,
    period_start,
    worker_jobs,
)
from tests.ops.worker.conftest import checkpoint_lines


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_period_starts_on_its_boundary_counted_from_the_epoch() -> None:
    assert period_start(_at("2026-11-27 01:00:00"), MINUTE) == _at("2026-11-27 01:00:00")
    assert period_start(_at("2026-11-27 01:00:59.999"), MINUTE) == _at("2026-11-27 01:00:00")
    assert period_start(_at("2026-11-27 01:01:00"), MINUTE) == _at("2026-11-27 01:01:00")
    assert period_start(_at("2026-11-27 01:14:59"), 5 * MINUTE) == _at("2026-11-27 01:10:00")
    assert period_start(_at("2026-11-27 01:59:59"), HOUR) == _at("2026-11-27 01:00:00")


def test_the_daily_jobs_run_at_three_in_the_morning_in_japan() -> None:
    # 03:00 JST is 18:00 UTC: the day's period runs from there to the next 18:00.
    assert period_start(_at("2026-11-27 17:59:59"), DAY, CHECK_LEDGER.offset) == _at(
        "2026-11-26 18:00:00"
    )
    assert period_start(_at("2026-11-27 18:00:00"), DAY, CHECK_LEDGER.offset) == _at(
        "2026-11-27 18:00:00"
    )
    assert VERIFY_AUDIT.period_start(_at("2026-11-28 03:00:00")) == _at("2026-11-27 18:00:00")


def test_a_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        period_start(_at("2026-11-27 01:00:00"), 0)


def test_the_worker_runs_every_job_of_the_operations_guide() -> None:
    names = [job.name for job in worker_jobs(mail_period=5)]
    assert names == [
        "send_mail",
        "run_scheduled_transfers",
        "audit_checkpoint",
        "purge_login_counters",
        "purge_otp_sessions",
        "purge_passkey_challenges",
        "clearsessions",
        "purge_outbox",
        "purge_job_runs",
        "check_ledger",
        "verify_audit",
    ]
    assert SCHEDULED_TRANSFERS.period == MINUTE
    assert AUDIT_CHECKPOINT.period == 5 * MINUTE
    assert CLEAR_SESSIONS.period == HOUR
    assert PURGE_OUTBOX.period == DAY
    # Only mail delivery runs in every worker at every turn (its rows are claimed one by one).
    assert [job.name for job in worker_jobs(mail_period=5) if not job.once_per_period] == [
        "send_mail"
    ]
    assert all(job.once_per_period for job in PERIODIC_JOBS)
    # The verification reads the checkpoint written before it in the same turn.
    assert PERIODIC_JOBS.index(AUDIT_CHECKPOINT) < PERIODIC_JOBS.index(VERIFY_AUDIT)


@pytest.mark.django_db(transaction=True)
def test_first_run_at_start_then_once_a_period_and_missed_periods_collapse(
    frozen_clock: datetime, checkpoints: Path
) -> None:
    runner = Runner([AUDIT_CHECKPOINT], stop=threading.Event())

    assert runner.run_turn() == ["audit_checkpoint"]  # the first run: at start
    assert runner.run_turn() == []  # same period
    clock.advance(4 * MINUTE)
    assert runner.run_turn() == []  # 01:04, still the period of 01:00
    clock.advance(MINUTE)
    assert runner.run_turn() == ["audit_checkpoint"]  # 01:05
    clock.advance(HOUR + 2 * MINUTE)  # the worker was away for 13 periods
    assert runner.run_turn() == ["audit_checkpoint"]  # one run, for 02:05
    assert runner.run_turn() == []

    periods = list(JobRun.objects.order_by("period_start").values_list("period_start", flat=True))
    start = frozen_clock
    assert periods == [start, start + timedelta(minutes=5), start + timedelta(minutes=65)]
    assert checkpoint_lines(checkpoints) == 3
    assert set(JobRun.objects.values_list("outcome", flat=True)) == {"ok"}


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_finds_the_period_done_and_does_not_run_it(
    frozen_clock: datetime, checkpoints: Path
) -> None:
    first = Runner([AUDIT_CHECKPOINT], stop=threading.Event(), name="node-1")
    second = Runner([AUDIT_CHECKPOINT], stop=threading.Event(), name="node-2")

    assert first.run_turn() == ["audit_checkpoint"]
    assert second.run_turn() == []
    clock.advance(5 * MINUTE)
    assert second.run_turn() == ["audit_checkpoint"]
    assert first.run_turn() == []

    assert list(JobRun.objects.order_by("period_start").values_list("worker", flat=True)) == [
        "node-1",
        "node-2",
    ]
    assert checkpoint_lines(checkpoints) == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_is_recorded_failed_said_and_tried_again_next_period(
    frozen_clock: datetime, checkpoints: Path, settings: Any
) -> None:
    settings.NETBANK_AUDIT_MAC_KEY = "too-short"
    said: list[str] = []
    runner = Runner([AUDIT_CHECKPOINT], stop=threading.Event(), say=said.append)

    assert runner.run_turn() == ["audit_checkpoint"]
    assert runner.run_turn() == []  # not again and again in the same period
    run = JobRun.objects.get()
    assert run.outcome == JobRun.Outcome.FAILED
    assert said
    assert all(
        line.startswith(f"[{AUDIT_CHECKPOINT.label}] ") and "NETBANK_AUDIT_MAC_KEY" in line
        for line in said
    )

    settings.NETBANK_AUDIT_MAC_KEY = "test-only-audit-checkpoint-mac-key-0123456789abcdef"
    clock.advance(5 * MINUTE)
    assert runner.run_turn() == ["audit_checkpoint"]
    assert list(JobRun.objects.order_by("period_start").values_list("outcome", flat=True)) == [
        "failed",
        "ok",
    ]
    assert checkpoint_lines(checkpoints) == 1


@pytest.mark.django_db(transaction=True)
def test_a_stopped_runner_starts_no_job(frozen_clock: datetime, checkpoints: Path) -> None:
    stop = threading.Event()
    stop.set()
    runner = Runner(worker_jobs(mail_period=5), stop=stop)

    assert runner.run_turn() == []
    runner.run_forever()  # returns at once

    assert JobRun.objects.count() == 0
    assert checkpoint_lines(checkpoints) == 0


@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_its_records_for_the_history_period(
    frozen_clock: datetime, settings: Any
) -> None:
    from netbank.ops.worker.schedule import PURGE_JOB_RUNS

    settings.NETBANK_WORKER_HISTORY_DAYS = 30
    now = clock.now()
    for age in (31, 29):
        JobRun.objects.create(
            job="check_ledger",
            period_start=now - timedelta(days=age),
            started_at=now - timedelta(days=age),
            finished_at=now - timedelta(days=age),
            outcome="ok",
            worker="old",
        )
    runner = Runner([PURGE_JOB_RUNS], stop=threading.Event())

    assert runner.run_turn() == ["purge_job_runs"]

    left = sorted((now - r.period_start).days for r in JobRun.objects.filter(worker="old"))
    assert left == [29]
