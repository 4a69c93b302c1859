"""Outbox delivery over a real SMTP server: headers, retries, backoff, never twice."""

from __future__ import annotations

import smtplib
from collections import Counter
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from django.core import mail as django_mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from netbank import clock
from netbank.notifications import delivery
from netbank.notifications.delivery import backoff_seconds, deliver_due
from netbank.notifications.models import OutboxMail
from netbank.notifications.services import mail_enqueue
from tests.notifications.conftest import SmtpServer

pytestmark = pytest.mark.django_db

SUBJECT = "【ネットバンク】ワンタイムパスワード トークン発行のお知らせ"
BODY = (
    "いつもネットバンクをご利用いただきありがとうございます。\n"
    "ワンタイムパスワードアプリにサービスID、ユーザID、利用開始パスワードを入力し、"
    "トークンの設定を行ってください。\n"
    "サービスID: 100001\n"
    "ユーザID: 492817365021\n"
    "http://127.0.0.1:8000/app/\n"
    "※当メールの送信アドレスは、送信専用となっております。\n"
)


def _enqueue(n: int = 1, **overrides: Any) -> list[OutboxMail]:
    fields = {
        "to": "phone@example.jp",
        "subject": SUBJECT,
        "body": BODY,
        "purpose": "token_issue",
        "from_addr": "netbank@otp-auth.example",
    }
    fields.update(overrides)
    return [mail_enqueue(**fields) for _ in range(n)]


def _row(mail: OutboxMail) -> OutboxMail:
    return OutboxMail.objects.get(pk=mail.pk)


def test_japanese_mail_arrives_with_proper_headers(
    smtp_server: SmtpServer, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue()

    report = deliver_due()

    assert report.sent == 1
    assert len(smtp_server.handler.accepted) == 1
    got = smtp_server.handler.accepted[0]
    assert got.mail_from == "netbank@otp-auth.example"
    assert got.rcpt_tos == ["phone@example.jp"]
    msg = got.message()
    assert msg["Subject"] == SUBJECT
    assert msg["From"] == "netbank@otp-auth.example"
    assert msg["To"] == "phone@example.jp"
    assert msg["Message-ID"] == queued.message_id
    assert msg["Auto-Submitted"] == "auto-generated"
    date = parsedate_to_datetime(msg["Date"])
    assert date == frozen_clock
    assert date.utcoffset() == timedelta(hours=9)  # the bank's zone, not "-0000"
    assert msg.get_content_charset() == "utf-8"
    assert msg["Content-Transfer-Encoding"] == "base64"
    assert msg.get_content().replace("\r\n", "\n") == BODY
    # Headers travel as 7-bit encoded words; nothing raw in the header block.
    assert got.data.split(b"\r\n\r\n", 1)[0].isascii()

    row = _row(queued)
    assert row.status == OutboxMail.Status.SENT
    assert row.sent_at == frozen_clock
    assert row.attempts == 1
    assert row.last_error == ""


def test_smtp_down_then_up_delivers_exactly_once_after_backoff(
    smtp_down: SmtpServer, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue()

    first = deliver_due()  # nothing listens on the port
    assert first.deferred == 1
    assert first.smtp_unavailable
    row = _row(queued)
    assert row.status == OutboxMail.Status.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at == frozen_clock + timedelta(seconds=30)
    assert "ConnectionRefused" in row.last_error

    clock.advance(30)
    assert deliver_due().deferred == 1  # still down: the second try doubles the wait
    row = _row(queued)
    assert row.attempts == 2
    assert row.next_attempt_at == frozen_clock + timedelta(seconds=30 + 60)

    smtp_down.start()
    clock.advance(59)
    assert deliver_due().handled == 0  # up, but the backoff has not run out
    assert smtp_down.handler.received == []

    clock.advance(1)
    assert deliver_due().sent == 1
    clock.advance(3600)
    assert deliver_due().handled == 0

    assert len(smtp_down.handler.received) == 1
    assert smtp_down.handler.accepted[0].message()["Message-ID"] == queued.message_id
    row = _row(queued)
    assert row.status == OutboxMail.Status.SENT
    assert row.attempts == 3
    assert row.last_error == ""


def test_outage_leaves_other_due_rows_untouched(
    smtp_down: SmtpServer, frozen_clock: datetime
) -> None:
    rows = _enqueue(3)

    report = deliver_due()

    # One refused connection is enough to know the server is down: the pass stops
    # and only the row in hand counts an attempt.
    assert report.deferred == 1
    assert sorted(_row(r).attempts for r in rows) == [0, 0, 1]


def test_row_is_never_sent_twice_when_deliver_due_runs_twice(
    smtp_server: SmtpServer, frozen_clock: datetime
) -> None:
    rows = _enqueue(3)

    assert deliver_due().sent == 3
    assert deliver_due().handled == 0
    clock.advance(24 * 3600)
    assert deliver_due().handled == 0

    ids = Counter(r.message()["Message-ID"] for r in smtp_server.handler.received)
    assert ids == Counter({r.message_id: 1 for r in rows})


def test_backoff_doubles_up_to_the_cap(settings: Any) -> None:
    settings.NETBANK_MAIL_DELIVERY = {
        **settings.NETBANK_MAIL_DELIVERY,
        "backoff_base_seconds": 30,
        "backoff_cap_seconds": 3600,
    }
    assert [backoff_seconds(n) for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert backoff_seconds(10_000) == 3600


def test_row_fails_after_max_attempts_and_is_left_alone(
    smtp_down: SmtpServer, settings: Any, frozen_clock: datetime
) -> None:
    settings.NETBANK_MAIL_DELIVERY = {
        **settings.NETBANK_MAIL_DELIVERY,
        "max_attempts": 3,
        "backoff_base_seconds": 30,
        "backoff_cap_seconds": 40,
    }
    (queued,) = _enqueue()

    assert deliver_due().deferred == 1
    clock.advance(30)
    assert deliver_due().deferred == 1
    assert _row(queued).next_attempt_at == clock.now() + timedelta(seconds=40)  # capped
    clock.advance(40)
    assert deliver_due().failed == 1

    row = _row(queued)
    assert row.status == OutboxMail.Status.FAILED
    assert row.attempts == 3
    smtp_down.start()
    clock.advance(24 * 3600)
    assert deliver_due().handled == 0
    assert smtp_down.handler.received == []


def test_temporary_refusal_is_retried_after_backoff(
    smtp_server: SmtpServer, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue()
    smtp_server.handler.mode = "tempfail"

    assert deliver_due().deferred == 1
    row = _row(queued)
    assert row.status == OutboxMail.Status.PENDING
    assert row.last_error.startswith("SMTPDataError: 451")

    smtp_server.handler.mode = "accept"
    clock.advance(30)
    assert deliver_due().sent == 1
    assert len(smtp_server.handler.accepted) == 1


def test_permanent_refusal_fails_at_once_without_naming_the_recipient(
    smtp_server: SmtpServer, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue(to="nobody@example.jp")
    smtp_server.handler.mode = "reject_rcpt"

    assert deliver_due().failed == 1

    row = _row(queued)
    assert row.status == OutboxMail.Status.FAILED
    assert row.attempts == 1
    assert row.last_error == "SMTPRecipientsRefused: 550"
    assert smtp_server.handler.received == []


def test_connection_lost_after_data_is_uncertain_and_never_retried(
    smtp_server: SmtpServer, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue()
    smtp_server.handler.mode = "drop_after_data"

    report = deliver_due()

    assert report.uncertain == 1
    # The server did get the whole message: retrying would have sent it twice.
    assert len(smtp_server.handler.received) == 1
    row = _row(queued)
    assert row.status == OutboxMail.Status.UNCERTAIN
    assert row.last_error.startswith("outcome unknown after DATA")

    smtp_server.handler.mode = "accept"
    clock.advance(7 * 24 * 3600)
    assert deliver_due().handled == 0
    assert len(smtp_server.handler.received) == 1


def test_worker_that_dies_after_its_claim_never_causes_a_resend(
    smtp_server: SmtpServer, settings: Any, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue()
    # A worker claims the row and dies before recording an outcome (it may or may
    # not have handed the message to the SMTP server).
    claimed = delivery._claim_next(clock.now())
    assert claimed is not None

    assert deliver_due().handled == 0  # claimed rows belong to their worker
    lease = settings.NETBANK_MAIL_DELIVERY["sending_lease_seconds"]
    clock.advance(lease - 1)
    assert deliver_due().expired_claims == 0
    clock.advance(2)
    report = deliver_due()

    assert report.expired_claims == 1
    assert report.handled == 0
    row = _row(queued)
    assert row.status == OutboxMail.Status.UNCERTAIN
    assert row.attempts == 1
    clock.advance(24 * 3600)
    assert deliver_due().handled == 0
    assert smtp_server.handler.received == []


def test_a_slow_worker_still_records_sent_after_its_lease_expired(
    smtp_server: SmtpServer, settings: Any, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue()
    claimed = delivery._claim_next(clock.now())
    assert claimed is not None
    mail, token = claimed
    clock.advance(settings.NETBANK_MAIL_DELIVERY["sending_lease_seconds"] + 1)
    assert deliver_due().expired_claims == 1

    delivery._record_sent(mail, token)  # the slow worker reports its success

    assert _row(queued).status == OutboxMail.Status.SENT


def test_outcome_from_a_stale_claim_token_is_ignored(
    smtp_server: SmtpServer, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue()
    claimed = delivery._claim_next(clock.now())
    assert claimed is not None
    mail, _token = claimed

    delivery._record_sent(mail, "0" * 32)

    assert _row(queued).status == OutboxMail.Status.SENDING


def test_header_injection_fails_the_row_without_sending(
    smtp_server: SmtpServer, frozen_clock: datetime
) -> None:
    (queued,) = _enqueue(subject="お知らせ\nBcc: attacker@example.com")

    assert deliver_due().failed == 1

    row = _row(queued)
    assert row.status == OutboxMail.Status.FAILED
    assert row.last_error.startswith("message not built: BadHeaderError")
    assert smtp_server.handler.received == []


def test_short_error_hides_smtp_credentials_and_non_ascii(settings: Any) -> None:
    settings.EMAIL_HOST_USER = "relay-user"
    settings.EMAIL_HOST_PASSWORD = "s3cret-relay-pw"
    exc = smtplib.SMTPAuthenticationError(
        535, b"5.7.8 bad credentials relay-user/s3cret-relay-pw \xe3\x81\x82" + b"x" * 500
    )

    text = delivery._short_error(exc)

    assert "s3cret-relay-pw" not in text
    assert "relay-user" not in text
    assert text.startswith("SMTPAuthenticationError: 535 5.7.8 bad credentials ***/***")
    assert text.isascii()
    assert len(text) <= 200


def test_smtp_authentication_failure_is_retried_and_stored_without_the_password(
    smtp_server: SmtpServer, smtp_settings: Any, frozen_clock: datetime
) -> None:
    # The test server offers no AUTH, so a configured login fails like a bad password.
    smtp_settings.EMAIL_HOST_USER = "relay-user"
    smtp_settings.EMAIL_HOST_PASSWORD = "s3cret-relay-pw"
    (queued,) = _enqueue()

    report = deliver_due()

    assert report.deferred == 1
    assert report.smtp_unavailable
    row = _row(queued)
    assert row.status == OutboxMail.Status.PENDING
    assert row.last_error.startswith("SMTPNotSupportedError")
    assert "s3cret-relay-pw" not in row.last_error
    assert smtp_server.handler.received == []


def test_locmem_backend_is_used_when_configured(frozen_clock: datetime) -> None:
    # The test settings' locmem backend: other apps' tests can read django.core.mail.outbox.
    (queued,) = _enqueue()

    assert deliver_due().sent == 1

    assert len(django_mail.outbox) == 1
    assert django_mail.outbox[0].extra_headers["Message-ID"] == queued.message_id


@pytest.mark.django_db(transaction=True)
def test_deliver_due_refuses_to_run_inside_a_transaction(smtp_server: SmtpServer) -> None:
    _enqueue()

    with pytest.raises(RuntimeError), transaction.atomic():
        deliver_due()

    assert OutboxMail.objects.get().status == OutboxMail.Status.PENDING
    assert smtp_server.handler.received == []


def test_idle_pass_only_reads(smtp_server: SmtpServer, frozen_clock: datetime) -> None:
    # A worker polls every few seconds; with nothing due it must not open a write
    # transaction (on SQLite, BEGIN IMMEDIATE would block the web server each poll).
    (queued,) = _enqueue()
    clock.advance(-1)  # the row is not due yet

    with CaptureQueriesContext(connection) as queries:
        assert deliver_due().handled == 0

    assert queries.captured_queries
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    assert _row(queued).status == OutboxMail.Status.PENDING
