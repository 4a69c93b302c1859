"""Queueing mail. Delivery lives in notifications.delivery."""

from __future__ import annotations

import secrets

from django.conf import settings

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
