"""One worker of many runs a job: advisory locks on PostgreSQL, one worker on SQLite."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from netbank.ops.models import JobRun
from netbank.ops.worker.locks import (
    LOCK_NAMESPACE,
    WorkerAlreadyRunningError,
    job_lock,
    lock_key,
    sole_worker,
)
from netbank.ops.worker.runner import Runner
from netbank.ops.worker.schedule import AUDIT_CHECKPOINT
from tests.ops.worker.conftest import checkpoint_lines


def test_every_job_has_its_own_lock_key_in_the_banks_namespace() -> None:
    from netbank.ops.worker.schedule import worker_jobs

    keys = [lock_key(job.name) for job in worker_jobs(mail_period=5)]
    assert len(set(keys)) == len(keys)
    assert all(-(2**31) <= key < 2**31 for key in keys)
    assert lock_key("audit_checkpoint") == lock_key("audit_checkpoint")


class OtherNode:
    """Holds a job's advisory lock on its own database session, as another worker would."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.holding = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        try:
            with job_lock(self.job) as held:
                assert held
                self.holding.set()
                self.release.wait(30)
        finally:
            connection.close()

    def __enter__(self) -> OtherNode:
        self.thread.start()
        assert self.holding.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_job_another_worker_holds_is_skipped_then_run_once_released(
    frozen_clock: datetime, checkpoints: Path
) -> None:
    runner = Runner([AUDIT_CHECKPOINT], stop=threading.Event())

    with OtherNode("audit_checkpoint"):
        assert runner.run_turn() == []  # the other worker is running it
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = %s AND objid = %s",
                [LOCK_NAMESPACE, lock_key("audit_checkpoint") & 0xFFFFFFFF],
            )
            assert cursor.fetchone() == (1,)
    assert checkpoint_lines(checkpoints) == 0
    assert JobRun.objects.count() == 0

    assert runner.run_turn() == ["audit_checkpoint"]
    assert checkpoint_lines(checkpoints) == 1
    # The lock is released after the run: the other worker could take it now.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone() == (0,)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_cannot_hold_the_same_jobs_lock() -> None:
    with OtherNode("run_scheduled_transfers"), job_lock("run_scheduled_transfers") as held:
        assert held is False
    with job_lock("run_scheduled_transfers") as held:
        assert held is True


@pytest.fixture
def sqlite_file(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """The worker's view of a SQLite database in a file (the demo's and development's)."""
    if connection.vendor != "sqlite":
        pytest.skip("the file lock is SQLite's")
    path = tmp_path / "db.sqlite3"
    original = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = str(path)
    try:
        yield path
    finally:
        connection.settings_dict["NAME"] = original


def test_on_sqlite_a_second_worker_is_refused(sqlite_file: Path) -> None:
    with sole_worker():
        with pytest.raises(WorkerAlreadyRunningError, match="only one worker"), sole_worker():
            pass
        assert Path(f"{sqlite_file}.worker.lock").exists()
    with sole_worker():  # free again once the first stopped
        pass


@pytest.mark.django_db
def test_the_worker_command_refuses_to_start_beside_another_on_sqlite(
    sqlite_file: Path,
) -> None:
    with sole_worker(), pytest.raises(CommandError, match="only one worker"):
        call_command("worker", "--once", stdout=io.StringIO())
