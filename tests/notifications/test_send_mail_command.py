"""`netbank send-mail`: one pass with --once, or a loop that stops cleanly on a signal."""

from __future__ import annotations

import io
import os
import signal
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from netbank.notifications.models import OutboxMail
from netbank.notifications.services import mail_enqueue
from tests.notifications.conftest import SmtpServer

SIGNAL_DEADLINE = 30.0


def _enqueue() -> OutboxMail:
    return mail_enqueue(
        to="taro.yamada@example.jp",
        subject="【ネットバンク】ログインのお知らせ",
        body="ログインがありました。\n",
        purpose="login_notice",
    )


@pytest.mark.django_db
def test_send_mail_once_delivers_and_reports(smtp_server: SmtpServer) -> None:
    queued = _enqueue()
    out = io.StringIO()

    call_command("send-mail", "--once", stdout=out)

    assert out.getvalue().strip().startswith("sent=1 deferred=0 failed=0")
    assert OutboxMail.objects.get(pk=queued.pk).status == OutboxMail.Status.SENT
    assert len(smtp_server.handler.accepted) == 1


@pytest.mark.django_db
def test_send_mail_once_with_smtp_down_reports_and_keeps_the_mail(smtp_down: SmtpServer) -> None:
    queued = _enqueue()
    out = io.StringIO()

    call_command("send-mail", "--once", stdout=out)

    assert "deferred=1" in out.getvalue()
    assert "smtp_unavailable" in out.getvalue()
    assert OutboxMail.objects.get(pk=queued.pk).status == OutboxMail.Status.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--batch-size", "0"], ["--interval", "0"], ["--interval", "-1"]])
def test_send_mail_rejects_nonsense_options(args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("send-mail", *args)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_send_mail_loop_delivers_then_stops_cleanly_on_signal(
    smtp_server: SmtpServer, signum: signal.Signals
) -> None:
    queued = _enqueue()
    finished = threading.Event()
    delivered_in_time: list[bool] = []

    def stop_after_delivery() -> None:
        delivered_in_time.append(smtp_server.handler.arrived.wait(SIGNAL_DEADLINE))
        if not finished.is_set():
            os.kill(os.getpid(), signum)  # what Ctrl-C or `kill` does to the worker

    stopper = threading.Thread(target=stop_after_delivery)
    stopper.start()
    out = io.StringIO()
    try:
        call_command("send-mail", "--interval", "0.05", stdout=out)
    finally:
        finished.set()
        stopper.join(timeout=SIGNAL_DEADLINE + 5)

    assert delivered_in_time == [True]
    assert out.getvalue().rstrip().endswith("send-mail: stopped")
    assert OutboxMail.objects.get(pk=queued.pk).status == OutboxMail.Status.SENT
    assert len(smtp_server.handler.received) == 1
    # The command put the previous handlers back.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
