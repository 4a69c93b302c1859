"""Queueing a failed or uncertain mail again: a person's decision, never the worker's."""

from __future__ import annotations

from datetime import datetime

import pytest

from netbank import clock
from netbank.notifications.delivery import deliver_due
from netbank.notifications.models import OutboxMail
from netbank.notifications.services import (
    MailNotRequeueableError,
    mail_enqueue,
    mail_needing_attention,
    mail_requeue,
)
from tests.notifications.conftest import SmtpServer

pytestmark = pytest.mark.django_db


def _enqueue() -> OutboxMail:
    return mail_enqueue(
        to="hanako.sato@example.jp",
        subject="【ネットバンク】トークン発行のお知らせ",
        body="トークンが発行されました。\n",
        purpose="token_issue_notice",
    )


def test_uncertain_mail_goes_out_again_only_when_requeued(
    smtp_server: SmtpServer, frozen_clock: datetime
) -> None:
    queued = _enqueue()
    smtp_server.handler.mode = "drop_after_data"
    assert deliver_due().uncertain == 1
    smtp_server.handler.mode = "accept"
    assert list(mail_needing_attention()) == [OutboxMail.objects.get(pk=queued.pk)]

    mail_requeue(mail_id=queued.pk)
    report = deliver_due()

    assert report.sent == 1
    row = OutboxMail.objects.get(pk=queued.pk)
    assert row.status == OutboxMail.Status.SENT
    assert row.attempts == 1
    # Same Message-ID both times: the customer's mail client can tell it is one mail.
    ids = [r.message()["Message-ID"] for r in smtp_server.handler.received]
    assert ids == [queued.message_id, queued.message_id]
    assert list(mail_needing_attention()) == []


def test_failed_mail_can_be_requeued(smtp_server: SmtpServer, frozen_clock: datetime) -> None:
    queued = _enqueue()
    smtp_server.handler.mode = "reject_rcpt"
    assert deliver_due().failed == 1
    smtp_server.handler.mode = "accept"

    mail_requeue(mail_id=queued.pk)
    clock.advance(1)

    assert deliver_due().sent == 1


@pytest.mark.parametrize("status", [OutboxMail.Status.PENDING, OutboxMail.Status.SENT])
def test_pending_or_sent_mail_cannot_be_requeued(status: str, frozen_clock: datetime) -> None:
    queued = _enqueue()
    OutboxMail.objects.filter(pk=queued.pk).update(status=status, sent_at=clock.now())

    with pytest.raises(MailNotRequeueableError):
        mail_requeue(mail_id=queued.pk)

    assert OutboxMail.objects.get(pk=queued.pk).status == status


def test_mail_being_sent_cannot_be_requeued(frozen_clock: datetime) -> None:
    queued = _enqueue()
    OutboxMail.objects.filter(pk=queued.pk).update(
        status=OutboxMail.Status.SENDING, claimed_at=clock.now(), claim_token="a" * 32
    )

    with pytest.raises(MailNotRequeueableError):
        mail_requeue(mail_id=queued.pk)
