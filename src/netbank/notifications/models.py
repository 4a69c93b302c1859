from __future__ import annotations

from django.db import models
from django.db.models import Q


class OutboxMail(models.Model):
    """A mail queued in the transaction of the change that caused it.

    The delivery worker (notifications.delivery) sends it after commit; a row is
    sent at most once and retried with backoff while the SMTP server is unreachable.

    pending → sending (claimed by one worker, committed before any SMTP traffic)
            → sent | pending again (definitely not delivered: retry later)
            | failed (refused for good, or out of attempts)
            | uncertain (the worker lost track after handing the message over;
              never retried automatically, so a customer never gets it twice)
    """

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        UNCERTAIN = "uncertain", "uncertain"

    created_at = models.DateTimeField()
    purpose = models.CharField(max_length=64)
    from_addr = models.CharField(max_length=254)
    to_addr = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    message_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # Set when a worker claims the row; the token lets only that worker record the outcome.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False),
                name="outbox_sending_has_claimed_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} to {self.to_addr} ({self.status})"
