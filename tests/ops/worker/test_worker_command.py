"""``netbank worker``: SIGTERM during a job, the start-up checks, one turn with --once."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from netbank.notifications.models import OutboxMail
from netbank.notifications.services import mail_enqueue
from netbank.ops.models import JobRun
from tests.notifications.conftest import SmtpServer
from tests.ops.worker.conftest import HoldingHandler

Status = OutboxMail.Status
SRC = Path(__file__).resolve().parents[3] / "src"


def _enqueue(count: int) -> list[OutboxMail]:
    return [
        mail_enqueue(to=f"c{n}@example.jp", subject="お知らせ", body=f"本文 {n}", purpose="notice")
        for n in range(count)
    ]


def _assert_first_sent_rest_untouched(mails: list[OutboxMail], server: SmtpServer) -> None:
    first, *rest = (OutboxMail.objects.get(pk=mail.pk) for mail in mails)
    assert first.status == Status.SENT
    assert first.sent_at is not None
    # No new work after the signal: the others were never claimed.
    assert [(mail.status, mail.attempts, mail.claim_token) for mail in rest] == [
        (Status.PENDING, 0, "")
    ] * len(rest)
    assert [item.message()["Message-ID"] for item in server.handler.received] == [first.message_id]
    assert JobRun.objects.count() == 0  # no periodic job started after the signal


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_job_lets_it_finish_and_starts_nothing_new(
    slow_smtp_server: SmtpServer, signum: signal.Signals
) -> None:
    mails = _enqueue(3)
    handler = slow_smtp_server.handler
    assert isinstance(handler, HoldingHandler)
    finished = threading.Event()

    def signal_while_sending() -> None:
        if handler.holding.wait(30) and not finished.is_set():
            os.kill(os.getpid(), signum)  # what systemd's stop or Ctrl-C does
        handler.release.set()  # the relay answers after the signal

    before = signal.getsignal(signal.SIGTERM)
    signaller = threading.Thread(target=signal_while_sending)
    signaller.start()
    out = io.StringIO()
    try:
        call_command("worker", "--turn-seconds", "0.05", stdout=out)
    finally:
        finished.set()
        handler.release.set()
        signaller.join(30)

    assert out.getvalue().rstrip().endswith("worker: stopped")
    _assert_first_sent_rest_untouched(mails, slow_smtp_server)
    assert signal.getsignal(signal.SIGTERM) is before  # handlers put back


def _child_env(tmp_path: Path, smtp_port: int) -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(SRC),
            "DJANGO_SETTINGS_MODULE": "netbank.config.settings",
            "NETBANK_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
                if not db.get("PASSWORD")
                else f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            ),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "NETBANK_AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        }
    )
    env.pop("NETBANK_ENV", None)
    return env


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_sigterm_to_the_worker_process_during_a_job_exits_zero_with_the_job_done(
    slow_smtp_server: SmtpServer, smtp_port: int, tmp_path: Path
) -> None:
    mails = _enqueue(3)
    handler = slow_smtp_server.handler
    assert isinstance(handler, HoldingHandler)
    proc = subprocess.Popen(
        [sys.executable, "-m", "netbank.cli", "worker", "--turn-seconds", "0.1"],
        env=_child_env(tmp_path, smtp_port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert handler.holding.wait(60), "the worker never started sending"
        proc.send_signal(signal.SIGTERM)
        # Still running: the mail in hand is not abandoned.
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
        handler.release.set()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 0, err
    assert out.rstrip().endswith("worker: stopped")
    _assert_first_sent_rest_untouched(mails, slow_smtp_server)


@pytest.mark.django_db
def test_the_worker_refuses_to_start_on_a_configuration_error(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.CACHES = {}  # Django's caches.E001: no default cache

    # Refused as the servers are: every error on stderr, exit status 1.
    with pytest.raises(SystemExit) as refused:
        call_command("worker", "--once", stdout=io.StringIO())

    assert refused.value.code == 1
    assert "caches.E001" in capsys.readouterr().err
    assert JobRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_once_runs_every_job_one_turn(checkpoints: Path, smtp_server: SmtpServer) -> None:
    mails = _enqueue(2)
    out = io.StringIO()

    call_command("worker", "--once", stdout=out)

    assert out.getvalue().rstrip().endswith("worker: stopped")
    assert set(OutboxMail.objects.values_list("status", flat=True)) == {Status.SENT}
    assert len(smtp_server.handler.received) == len(mails)
    assert set(JobRun.objects.values_list("job", "outcome")) == {
        (name, "ok")
        for name in (
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
        )
    }


@pytest.mark.parametrize("value", ["0", "-1"])
def test_the_turn_must_be_positive(value: str) -> None:
    with pytest.raises(CommandError, match="positive"):
        call_command("worker", "--once", "--turn-seconds", value)
