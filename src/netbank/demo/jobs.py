"""The demo's periodic jobs: the bank's cron entries, as threads of ``netbank demo``.

A production bank runs ``netbank run-scheduled-transfers``, ``netbank audit-checkpoint``
and the housekeeping commands from cron or a systemd timer (docs/operations.md). The
demo runs the same commands through ``call_command`` on a timer, so what a visitor sees
(a 振込予約 executed, a checkpoint file growing) is what those commands do.

A job runs once at start, then every ``interval`` seconds until ``stop`` is set; a
failure is reported and the job carries on at its next turn. Routine output ("nothing
to do") stays out of the demo's console so the credentials table stays readable.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

Say = Callable[[str], None]


def _always(_output: str) -> bool:
    return True


def _never(_output: str) -> bool:
    return False


@dataclass(frozen=True)
class PeriodicJob:
    command: str  # the Django command's name (module name, underscores)
    label: str  # for the banner and the console
    interval: float  # seconds between runs
    run_at_stop: bool = False  # once more after stop, so the last minutes count too
    # Whether a run's normal output is worth printing.
    report: Callable[[str], bool] = _always


def _transfers_moved(output: str) -> bool:
    """A run that executed or failed a 振込予約 is news; "executed 0, failed 0" is not."""
    return "executed 0, failed 0" not in output


SCHEDULED_TRANSFERS = PeriodicJob(
    command="run_scheduled_transfers",
    label="振込予約の実行 / scheduled transfers",
    interval=60.0,
    report=_transfers_moved,
)
AUDIT_CHECKPOINT = PeriodicJob(
    command="audit_checkpoint",
    label="監査チェックポイント / audit checkpoint",
    interval=300.0,
    run_at_stop=True,
    report=_never,
)


# Housekeeping (docs/operations.md "Jobs"): hourly, silent.
PURGE_LOGIN_COUNTERS = PeriodicJob(
    command="purge_login_counters",
    label="ログイン制限の整理 / throttle and unknown-ID counters",
    interval=3600.0,
    report=_never,
)
PURGE_OTP_SESSIONS = PeriodicJob(
    command="purge_otp_sessions",
    label="利用開始・Directログインの整理 / activation sessions and Direct login URLs",
    interval=3600.0,
    report=_never,
)
PURGE_PASSKEY_CHALLENGES = PeriodicJob(
    command="purge_passkey_challenges",
    label="パスキーのチャレンジの整理 / passkey challenges",
    interval=3600.0,
    report=_never,
)
JOBS = (
    SCHEDULED_TRANSFERS,
    AUDIT_CHECKPOINT,
    PURGE_LOGIN_COUNTERS,
    PURGE_OTP_SESSIONS,
    PURGE_PASSKEY_CHALLENGES,
)


def available_jobs() -> list[PeriodicJob]:
    """The jobs whose commands this installation has."""
    commands = get_commands()
    return [job for job in JOBS if job.command in commands]


def run_once(job: PeriodicJob, *, say: Say) -> bool:
    """Run the job's command once; True when it succeeded."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(job.command, stdout=out, stderr=err)
    except CommandError as exc:
        # The command's own words (e.g. "the audit trail was cut short: run verify-audit").
        for line in err.getvalue().splitlines():
            say(f"[{job.label}] {line}")
        say(f"[{job.label}] {exc}")
        return False
    except Exception:
        logger.exception("demo job %s failed; it runs again at its next turn", job.command)
        return False
    if job.report(out.getvalue()):
        for line in out.getvalue().splitlines():
            say(f"[{job.label}] {line}")
    return True


def run_periodic(
    job: PeriodicJob,
    *,
    stop: threading.Event,
    say: Say,
    wait: Callable[[float], bool] | None = None,
) -> None:
    """Run ``job`` now and every ``job.interval`` seconds until ``stop`` is set.

    ``wait(seconds)`` returns True when it is time to stop (default: ``stop.wait``).
    """
    pause = wait or stop.wait
    try:
        while not stop.is_set():
            close_old_connections()  # a connection broken since the last turn is replaced
            run_once(job, say=say)
            if pause(job.interval):
                break
        if job.run_at_stop:
            run_once(job, say=say)
    finally:
        connection.close()


def start_jobs(
    jobs: list[PeriodicJob], *, stop: threading.Event, say: Say
) -> list[threading.Thread]:
    threads = []
    for job in jobs:
        thread = threading.Thread(
            target=run_periodic,
            kwargs={"job": job, "stop": stop, "say": say},
            name=f"netbank-{job.command.replace('_', '-')}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads
