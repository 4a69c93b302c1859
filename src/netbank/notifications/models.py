from __future__ import annotations

from django.db import models


class OutboxMail(models.Model):
    """A mail queued in the transaction of the change that caused it.

    The delivery worker sends it after commit; a row is sent at most once and
    retried with backoff while the SMTP server is unreachable.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

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

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} to {self.to_addr} ({self.status})"
