"""Two workers on one PostgreSQL database for minutes of simulated time.

Each worker is a runner in its own thread with its own database session, as two nodes
would be: the same jobs, real advisory locks, real SMTP. The clock is pinned and moved
in steps; after each step both workers have turned over every job at least once.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from netbank import clock
from netbank.banking.business_days import jst_day_bounds, next_business_day, today_jst
from netbank.banking.models import Account, Posting, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import furikomi_order, transfer_schedule
from netbank.notifications.models import OutboxMail
from netbank.notifications.services import mail_enqueue
from netbank.ops.models import JobRun
from netbank.ops.worker.runner import Runner
from netbank.ops.worker.schedule import AUDIT_CHECKPOINT, PERIODIC_JOBS, worker_jobs
from tests.banking.factories import customer_with_account, other_bank
from tests.notifications.conftest import SmtpServer
from tests.ops.worker.conftest import checkpoint_lines

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

STEP_SECONDS = 15
STEPS = 40  # ten minutes
MAIL_PERIOD = 5


def _schedule_transfers(count: int) -> tuple[Account, list[Transfer], datetime]:
    """``count`` 振込予約 for the next business day; returns when that day begins (UTC)."""
    customer, account = customer_with_account()
    payee = other_bank()
    payee_seed(customer=customer, destination=payee, nickname="取引先")
    day = next_business_day(today_jst())
    transfers = []
    for amount in range(1_000, 1_000 * (count + 1), 1_000):
        order = furikomi_order(
            customer=customer,
            from_account_id=account.pk,
            amount=amount,
            destination=payee,
            scheduled_for=day,
        )
        result = transfer_schedule(
            customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32)
        )
        transfers.append(result.transfer)
    return account, transfers, jst_day_bounds(day)[0]


class Node:
    """One worker in its own thread (and so its own database session)."""

    def __init__(self, name: str, stop: threading.Event) -> None:
        self.runner = Runner(
            worker_jobs(mail_period=MAIL_PERIOD), stop=stop, turn_seconds=0.01, name=name
        )
        self.thread = threading.Thread(target=self.runner.run_forever, name=name)


def _wait_for_turns(nodes: list[Node], turns: int) -> None:
    """Until every node has made ``turns`` more turns (each a full pass over the jobs)."""
    targets = [node.runner.turns + turns for node in nodes]
    deadline = time.monotonic() + 30
    while any(node.runner.turns < target for node, target in zip(nodes, targets, strict=True)):
        assert all(node.thread.is_alive() for node in nodes)
        assert time.monotonic() < deadline, "a worker stopped turning"
        time.sleep(0.005)


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_every_job_once_a_period_and_nothing_twice(
    frozen_clock: datetime, checkpoints: Path, smtp_server: SmtpServer
) -> None:
    account, transfers, due_at = _schedule_transfers(3)
    for n in range(5):
        mail_enqueue(to=f"c{n}@example.jp", subject="お知らせ", body=f"本文 {n}", purpose="notice")
    # Three minutes before the transfers' day begins in Japan, an hour boundary too.
    clock.set_now(due_at - timedelta(minutes=3))
    stop = threading.Event()
    nodes = [Node("node-1", stop), Node("node-2", stop)]
    seen: list[datetime] = []
    try:
        for node in nodes:
            node.thread.start()
        for _step in range(STEPS):
            seen.append(clock.now())
            _wait_for_turns(nodes, 2)
            if _step == STEPS // 2:  # mail queued while the workers run
                for n in range(5, 8):
                    mail_enqueue(
                        to=f"c{n}@example.jp", subject="お知らせ", body=f"本文 {n}", purpose="x"
                    )
            clock.advance(STEP_SECONDS)
        seen.append(clock.now())
        _wait_for_turns(nodes, 2)
    finally:
        stop.set()
        for node in nodes:
            node.thread.join(30)
    assert not any(node.thread.is_alive() for node in nodes)

    # Every periodic job ran exactly once in every period the workers saw, and did its work.
    for job in PERIODIC_JOBS:
        periods = sorted({job.period_start(moment) for moment in seen})
        runs = list(
            JobRun.objects.filter(job=job.name)
            .order_by("period_start")
            .values_list("period_start", "outcome")
        )
        assert runs == [(period, "ok") for period in periods], job.name
    assert JobRun.objects.filter(job="run_scheduled_transfers").count() == 11  # 10 min + 1
    assert JobRun.objects.filter(job="purge_login_counters").count() == 2  # an hour boundary
    # The runs were shared: both workers took part.
    assert set(JobRun.objects.values_list("worker", flat=True)) == {"node-1", "node-2"}
    # Each checkpoint run wrote one line: no run happened twice.
    checkpoint_periods = {AUDIT_CHECKPOINT.period_start(moment) for moment in seen}
    assert checkpoint_lines(checkpoints) == len(checkpoint_periods)

    # Each 振込予約 executed once: one journal entry each, and no other debit.
    for transfer in transfers:
        transfer.refresh_from_db()
        assert transfer.state == Transfer.State.COMPLETED
    debits = Posting.objects.filter(account=account, amount__lt=0)
    assert sorted(debits.values_list("entry_id", flat=True)) == sorted(
        t.entry_id for t in transfers
    )
    account.refresh_from_db()
    assert account.balance == 500_000 - sum(-p.amount for p in debits)

    # Every mail was sent, once: the SMTP server saw each Message-ID once.
    mails = list(OutboxMail.objects.all())
    assert len(mails) >= 8
    assert {mail.status for mail in mails} == {OutboxMail.Status.SENT}
    received = [item.message()["Message-ID"] for item in smtp_server.handler.received]
    assert sorted(received) == sorted(mail.message_id for mail in mails)
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_started_together_share_the_jobs(
    tmp_path: Path, smtp_server: SmtpServer, smtp_port: int
) -> None:
    """Two ``netbank worker --once`` processes racing on one database, in real time."""
    from tests.ops.worker.test_worker_command import _child_env

    for n in range(6):
        mail_enqueue(to=f"c{n}@example.jp", subject="お知らせ", body=f"本文 {n}", purpose="notice")
    env = _child_env(tmp_path, smtp_port)
    (tmp_path / "checkpoints").mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "netbank.cli", "worker", "--once"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]

    assert [proc.returncode for proc in procs] == [0, 0], results
    runs = list(JobRun.objects.values_list("job", "period_start", "outcome", "worker"))
    # Each job ran once in each period it was due (a run may straddle a minute boundary).
    for job in PERIODIC_JOBS:
        mine = [run for run in runs if run[0] == job.name]
        assert 1 <= len(mine) <= 2, job.name
        assert len({run[1] for run in mine}) == len(mine)
        assert {run[2] for run in mine} == {"ok"}
    checkpoint_runs = sum(1 for run in runs if run[0] == AUDIT_CHECKPOINT.name)
    assert checkpoint_lines(tmp_path / "checkpoints") == checkpoint_runs
    # Both processes delivered mail; none twice.
    assert {mail.status for mail in OutboxMail.objects.all()} == {OutboxMail.Status.SENT}
    received = [item.message()["Message-ID"] for item in smtp_server.handler.received]
    assert sorted(received) == sorted(OutboxMail.objects.values_list("message_id", flat=True))
