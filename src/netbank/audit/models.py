from __future__ import annotations

from django.db import models


class AuditRecord(models.Model):
    """One security event. Rows are only ever inserted.

    Principals are stored as plain ids so this app depends on no domain app.
    ``data`` never holds secrets: no passwords, codes, seeds or URLs with tokens.
    """

    occurred_at = models.DateTimeField(db_index=True)
    event = models.CharField(max_length=64)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    operator_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["event", "occurred_at"], name="audit_event_time_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event}"
