"""Sent and failed mail past the retention period is deleted with its body; nothing else."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command

from netbank import clock
from netbank.notifications.models import OutboxMail
from netbank.notifications.services import mail_enqueue

pytestmark = pytest.mark.django_db

Status = OutboxMail.Status


def _mail(status: str, age_days: int) -> OutboxMail:
    with clock.frozen(clock.now() - timedelta(days=age_days)):
        mail = mail_enqueue(
            to="taro@example.jp", subject="お知らせ", body="残高のお知らせ", purpose="notice"
        )
    changes: dict[str, Any] = {"status": status}
    if status == Status.SENT:
        changes["sent_at"] = mail.created_at
    if status == Status.SENDING:
        changes["claimed_at"] = mail.created_at
    OutboxMail.objects.filter(pk=mail.pk).update(**changes)
    return mail


def test_purge_outbox_deletes_only_old_sent_and_failed_mail(
    frozen_clock: datetime, settings: Any
) -> None:
    settings.NETBANK_OUTBOX_RETENTION_DAYS = 90
    old_sent = _mail(Status.SENT, 91)
    old_failed = _mail(Status.FAILED, 91)
    kept = [
        _mail(Status.SENT, 89),
        _mail(Status.FAILED, 89),
        _mail(Status.PENDING, 200),  # still to be sent
        _mail(Status.UNCERTAIN, 200),  # a person must decide
        _mail(Status.SENDING, 200),  # a worker holds it (or died: it becomes uncertain)
    ]
    out = io.StringIO()

    call_command("purge_outbox", stdout=out)

    assert out.getvalue().strip() == "outbox mails deleted: 2 (older than 90 days)"
    left = set(OutboxMail.objects.values_list("pk", flat=True))
    assert left == {mail.pk for mail in kept}
    assert not OutboxMail.objects.filter(body="残高のお知らせ", pk__in=[old_sent.pk, old_failed.pk])


def test_the_retention_period_is_a_setting(frozen_clock: datetime, settings: Any) -> None:
    settings.NETBANK_OUTBOX_RETENTION_DAYS = 10
    _mail(Status.SENT, 11)
    young = _mail(Status.SENT, 9)

    call_command("purge_outbox", stdout=io.StringIO())

    assert list(OutboxMail.objects.values_list("pk", flat=True)) == [young.pk]
