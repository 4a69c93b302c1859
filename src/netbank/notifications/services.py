"""Queueing mail, and queueing it again by a person's decision. Delivery: notifications.delivery."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import translation

from netbank import clock
from netbank.notifications.models import OutboxMail


def mail_enqueue(
    *, to: str, subject: str, body: str, purpose: str, from_addr: str | None = None
) -> OutboxMail:
    """Queue one mail. Call inside the transaction that makes it true."""
    now = clock.now()
    domain = settings.NETBANK_MAIL_DOMAIN
    return OutboxMail.objects.create(
        created_at=now,
        purpose=purpose,
        from_addr=from_addr or settings.NETBANK_MAIL_FROM,
        to_addr=to,
        subject=subject,
        body=body,
        message_id=f"<{now:%Y%m%d%H%M%S}.{secrets.token_hex(12)}@{domain}>",
        next_attempt_at=now,
    )


def notice_enqueue(
    *, to: str, subject: str, template: str, context: Mapping[str, Any], purpose: str
) -> OutboxMail:
    """Queue a notice to a customer's registered address: from the notice address, the
    subject after 【bank name】, the body ``template`` rendered with ``context`` plus
    ``bank_name`` and ``helpdesk``. Notices are Japanese whatever language the screen was
    in (the leaflet's mails are): lazy strings in ``subject`` and ``context`` are rendered
    in Japanese here. Call inside the transaction that makes it true.
    """
    with translation.override("ja"):
        body = render_to_string(
            template,
            {
                "bank_name": settings.NETBANK_BANK_NAME,
                "helpdesk": settings.NETBANK_HELPDESK,
                **context,
            },
        )
        mail_subject = f"【{settings.NETBANK_BANK_NAME}】{subject}"
    return mail_enqueue(
        to=to,
        subject=mail_subject,
        body=body,
        purpose=purpose,
        from_addr=settings.NETBANK_NOTICE_FROM,
    )


class MailNotRequeueableError(ValueError):
    """Only a mail that failed or whose delivery is uncertain can be queued again."""


def mail_requeue(*, mail_id: int) -> OutboxMail:
    """Queue a failed or uncertain mail again, after a person decided it should go.

    The worker never does this by itself (an uncertain mail may already be in the
    customer's inbox). The mail keeps its Message-ID, so a mail client that did get
    the first copy can recognise the second. The caller records who decided, in its
    own audit event, inside the same transaction.
    """
    with transaction.atomic():
        mail = OutboxMail.objects.select_for_update().get(pk=mail_id)
        if mail.status not in (OutboxMail.Status.FAILED, OutboxMail.Status.UNCERTAIN):
            raise MailNotRequeueableError(f"mail {mail_id} is {mail.status}")
        mail.status = OutboxMail.Status.PENDING
        mail.attempts = 0
        mail.next_attempt_at = clock.now()
        mail.claimed_at = None
        mail.claim_token = ""
        mail.save(
            update_fields=["status", "attempts", "next_attempt_at", "claimed_at", "claim_token"]
        )
    return mail


def mail_needing_attention() -> QuerySet[OutboxMail]:
    """Failed and uncertain mail, oldest first: what the helpdesk should look at."""
    return OutboxMail.objects.filter(
        status__in=[OutboxMail.Status.FAILED, OutboxMail.Status.UNCERTAIN]
    ).order_by("created_at", "id")


def outbox_purge(*, before: datetime) -> int:
    """Delete sent and failed mail created before ``before``, bodies and all.

    A mail's body holds the customer's address, name and what happened to the account;
    kept forever it is a copy of the bank's correspondence nobody needs. Queued, sending
    and uncertain rows are never deleted: they are still work, or a person's decision.
    """
    deleted, _ = OutboxMail.objects.filter(
        status__in=[OutboxMail.Status.SENT, OutboxMail.Status.FAILED], created_at__lt=before
    ).delete()
    return deleted
