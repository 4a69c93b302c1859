"""The worker's loop: at every turn, run each job whose current period has not run yet.

A job that runs once a period runs under its advisory lock, and only when no
``ops.JobRun`` row for the period exists; the row is written when the run ends, ok or
failed, so a failing job is tried again in its next period, not at every turn. A worker
killed in the middle of a job (SIGKILL, power loss) leaves no row, and the next worker
runs the job again in the same period: every job is safe to run again (振込予約 executes
each transfer once by its state, mail is claimed row by row, the purges and checkpoints
repeat harmlessly).

``stop`` (set on SIGTERM/SIGINT) is looked at between jobs: the job in hand finishes,
no new one starts.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import IntegrityError, close_old_connections, connection

from netbank import clock
from netbank.ops.models import JobRun
from netbank.ops.worker.locks import job_lock
from netbank.ops.worker.schedule import Job, JobFailedError

logger = logging.getLogger(__name__)

Say = Callable[[str], None]

DEFAULT_TURN_SECONDS = 1.0


def _quiet(_line: str) -> None:
    pass


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


class Runner:
    """Runs ``jobs`` until ``stop`` is set; ``say`` gets the lines worth printing."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        stop: threading.Event,
        say: Say = _quiet,
        turn_seconds: float = DEFAULT_TURN_SECONDS,
        name: str | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self.stop = stop
        self.say = say
        self.turn_seconds = turn_seconds
        self.name = name or worker_name()
        # The period each job last ran (or was found done) in, as this worker knows it:
        # saves a query per job and turn once a period is done.
        self._done: dict[str, datetime] = {}
        self.turns = 0  # turns completed (tests wait on it)

    def run_forever(self) -> None:
        """Turn until stopped; the database connection is closed at the end."""
        try:
            while not self.stop.is_set():
                self.run_turn()
                self.stop.wait(self.turn_seconds)
        finally:
            connection.close()

    def run_turn(self) -> list[str]:
        """One pass over the jobs; the names of those that ran."""
        ran: list[str] = []
        close_old_connections()  # a connection broken since the last turn is replaced
        for job in self.jobs:
            if self.stop.is_set():
                break
            try:
                if self._run_if_due(job):
                    ran.append(job.name)
            except Exception:
                # The database went away, most likely: the next turn tries again.
                logger.exception("worker: %s could not be run; trying again", job.name)
                close_old_connections()
        self.turns += 1
        return ran

    def _run_if_due(self, job: Job) -> bool:
        period = job.period_start(clock.now())
        if self._done.get(job.name) == period:
            return False
        if not job.once_per_period:
            self._execute(job)
            self._done[job.name] = period
            return True
        with job_lock(job.name) as held:
            if not held:
                return False  # another worker is running it now
            if JobRun.objects.filter(job=job.name, period_start=period).exists():
                self._done[job.name] = period
                return False
            started = clock.now()
            ok = self._execute(job)
            try:
                JobRun.objects.create(
                    job=job.name,
                    period_start=period,
                    started_at=started,
                    finished_at=clock.now(),
                    outcome=JobRun.Outcome.OK if ok else JobRun.Outcome.FAILED,
                    worker=self.name,
                )
            except IntegrityError:
                # Only possible without the lock (SQLite with a second worker it refused).
                logger.error("worker: %s ran twice in the period %s", job.name, period)
        self._done[job.name] = period
        return True

    def _execute(self, job: Job) -> bool:
        """Run the job's action; True when it did its work."""
        try:
            output = job.action(self.stop)
        except JobFailedError as exc:
            logger.error("worker: %s failed: %s", job.name, exc)
            for line in exc.lines:
                self.say(f"[{job.label}] {line}")
            return False
        except Exception:
            logger.exception("worker: %s failed; it runs again in its next period", job.name)
            self.say(f"[{job.label}] failed; see the log")
            return False
        if output.strip():
            logger.info("worker: %s: %s", job.name, output.strip())
        else:  # an idle mail poll, every few seconds: not worth a log line
            logger.debug("worker: %s: nothing to do", job.name)
        if job.report(output):
            for line in output.splitlines():
                self.say(f"[{job.label}] {line}")
        return True
