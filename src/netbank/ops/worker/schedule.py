"""The worker's jobs and their periods.

Time is cut into periods of a job's length, counted from the Unix epoch (plus an offset,
so the daily jobs run at night in Japan). A job runs once in each period, as soon as a
worker sees the period begin; a worker that was down for several periods runs the job
once, for the period it wakes up in (missed periods collapse into one run: every job
catches up by itself, e.g. 振込予約 executes everything due up to today).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
# 03:00 in Japan (18:00 UTC): the daily checks run when the bank is quiet.
NIGHT_IN_JAPAN = 18 * HOUR


class JobFailedError(Exception):
    """A job that did not do its work; ``lines`` say why, in the job's own words."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


# A job's work: gets the worker's stop event (set by SIGTERM), returns what it did.
Action = Callable[[threading.Event], str]


def _always(_output: str) -> bool:
    return True


def _never(_output: str) -> bool:
    return False


@dataclass(frozen=True)
class Job:
    name: str  # the command's name, or the job's own
    label: str  # for the console and the demo's banner
    period: int  # seconds
    action: Action
    offset: int = 0  # seconds after the epoch's period boundary
    # Whether a run's normal output is news worth printing.
    report: Callable[[str], bool] = _always
    # False for mail delivery: every worker delivers at every turn, and the outbox's
    # row claims (not a once-a-period record) make each mail go once.
    once_per_period: bool = True

    def period_start(self, now: datetime) -> datetime:
        return period_start(now, self.period, self.offset)


def period_start(now: datetime, period: int, offset: int = 0) -> datetime:
    """The start of the period of ``period`` seconds that ``now`` falls in."""
    if period <= 0:
        raise ValueError("a period is a positive number of seconds")
    since = now - EPOCH  # whole seconds in integers: no float rounding at a boundary
    elapsed = since.days * DAY + since.seconds - offset
    return EPOCH + timedelta(seconds=elapsed - elapsed % period + offset)


def command_action(command: str) -> Action:
    """Run a management command; its output is the job's output, its error a failure."""

    def run(_stop: threading.Event) -> str:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(command, stdout=out, stderr=err)
        except CommandError as exc:
            # What it found (verify-audit's findings), its warnings, then why it failed.
            lines = [*out.getvalue().splitlines(), *err.getvalue().splitlines(), str(exc)]
            raise JobFailedError(lines) from exc
        return out.getvalue()

    return run


def _deliver_mail(stop: threading.Event) -> str:
    from netbank.notifications.delivery import deliver_due

    report = deliver_due(stop=stop)
    return str(report) if report.handled or report.expired_claims else ""


def _purge_job_runs(_stop: threading.Event) -> str:
    from netbank import clock
    from netbank.ops.models import JobRun

    before = clock.now() - timedelta(days=int(settings.NETBANK_WORKER_HISTORY_DAYS))
    deleted, _ = JobRun.objects.filter(period_start__lt=before).delete()
    return f"job runs deleted: {deleted}"


def _transfers_moved(output: str) -> bool:
    """A run that executed or failed a 振込予約 is news; "executed 0, failed 0" is not."""
    return "executed 0, failed 0" not in output


def mail_delivery(period: int) -> Job:
    return Job(
        name="send_mail",
        label="メール送信 / mail delivery",
        period=period,
        action=_deliver_mail,
        report=_never,
        once_per_period=False,
    )


SCHEDULED_TRANSFERS = Job(
    name="run_scheduled_transfers",
    label="振込予約の実行 / scheduled transfers",
    period=MINUTE,
    action=command_action("run_scheduled_transfers"),
    report=_transfers_moved,
)
AUDIT_CHECKPOINT = Job(
    name="audit_checkpoint",
    label="監査チェックポイント / audit checkpoint",
    period=5 * MINUTE,
    action=command_action("audit_checkpoint"),
    report=_never,
)
PURGE_LOGIN_COUNTERS = Job(
    name="purge_login_counters",
    label="ログイン制限の整理 / throttle and unknown-ID counters",
    period=HOUR,
    action=command_action("purge_login_counters"),
    report=_never,
)
PURGE_OTP_SESSIONS = Job(
    name="purge_otp_sessions",
    label="利用開始・Directログインの整理 / activation sessions and Direct login URLs",
    period=HOUR,
    action=command_action("purge_otp_sessions"),
    report=_never,
)
PURGE_PASSKEY_CHALLENGES = Job(
    name="purge_passkey_challenges",
    label="パスキーのチャレンジの整理 / passkey challenges",
    period=HOUR,
    action=command_action("purge_passkey_challenges"),
    report=_never,
)
CLEAR_SESSIONS = Job(
    name="clearsessions",
    label="期限切れセッションの削除 / expired sessions",
    period=HOUR,
    action=command_action("clearsessions"),
    report=_never,
)
PURGE_JOB_RUNS = Job(
    name="purge_job_runs",
    label="定期処理の記録の整理 / the worker's own records",
    period=DAY,
    offset=NIGHT_IN_JAPAN,
    action=_purge_job_runs,
    report=_never,
)
PURGE_OUTBOX = Job(
    name="purge_outbox",
    label="送信済みメールの削除 / sent mail past its retention",
    period=DAY,
    offset=NIGHT_IN_JAPAN,
    action=command_action("purge_outbox"),
    report=_never,
)
CHECK_LEDGER = Job(
    name="check_ledger",
    label="元帳の検査 / ledger check",
    period=DAY,
    offset=NIGHT_IN_JAPAN,
    action=command_action("check_ledger"),
    report=_never,
)
VERIFY_AUDIT = Job(
    name="verify_audit",
    label="監査証跡の検証 / audit trail verification",
    period=DAY,
    offset=NIGHT_IN_JAPAN,
    action=command_action("verify_audit"),
    report=_never,
)

# In this order within a turn: a checkpoint before the verification that reads it.
PERIODIC_JOBS = (
    SCHEDULED_TRANSFERS,
    AUDIT_CHECKPOINT,
    PURGE_LOGIN_COUNTERS,
    PURGE_OTP_SESSIONS,
    PURGE_PASSKEY_CHALLENGES,
    CLEAR_SESSIONS,
    PURGE_OUTBOX,
    PURGE_JOB_RUNS,
    CHECK_LEDGER,
    VERIFY_AUDIT,
)


def worker_jobs(*, mail_period: int | None = None) -> list[Job]:
    """Every job of the worker: mail delivery first, then the periodic jobs."""
    if mail_period is None:
        mail_period = int(settings.NETBANK_MAIL_DELIVERY["poll_seconds"])
    return [mail_delivery(mail_period), *PERIODIC_JOBS]
