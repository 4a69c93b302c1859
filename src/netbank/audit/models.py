from __future__ import annotations

from django.db import models

from netbank.audit.chain import GENESIS


class AuditRecord(models.Model):
    """One security event. Rows are only ever inserted (database triggers refuse
    UPDATE and DELETE; docs/audit.md).

    Principals are stored as plain ids so this app depends on no domain app.
    ``data`` never holds secrets: no passwords, codes, seeds or URLs with tokens.

    Each record is link ``seq`` of one hash chain (``chain``: ``customer:<id>``,
    ``operator:<id>`` or ``system``); ``hash`` is SHA-256 over the record's canonical
    encoding including ``prev_hash``, the hash of link ``seq - 1`` (netbank.audit.chain).
    """

    occurred_at = models.DateTimeField(db_index=True)
    event = models.CharField(max_length=64)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    operator_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["event", "occurred_at"], name="audit_event_time_idx")]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_record_chain_seq_unique"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_record_seq_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event}"


class AuditChainHead(models.Model):
    """The last link of one chain. Appending locks only this row (SELECT … FOR UPDATE),
    so events of different customers never wait for each other.

    A trigger lets ``seq`` only move forward by one and refuses DELETE, so the head
    cannot be wound back to hide a truncation from inside the application.
    """

    chain = models.CharField(max_length=40, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq}"
