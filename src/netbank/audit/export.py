"""The trail as JSON Lines, one record per line, in insert order.

Each line has every stored field, so anyone can recompute the chains from an export
with the encoding in docs/audit.md (``netbank.audit.chain``) and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from netbank.audit.chain import ip_text, time_text
from netbank.audit.models import AuditRecord

FIELDS = (
    "id",
    "chain",
    "seq",
    "occurred_at",
    "event",
    "customer_id",
    "operator_id",
    "ip",
    "data",
    "prev_hash",
    "hash",
)


def audit_export_lines(*, since: datetime | None = None) -> Iterator[str]:
    """JSON lines (without newline) of the records that occurred at or after ``since``."""
    records = AuditRecord.objects.order_by("id")
    if since is not None:
        records = records.filter(occurred_at__gte=since)
    for row in records.values(*FIELDS).iterator(chunk_size=2000):
        row["occurred_at"] = time_text(row["occurred_at"])
        row["ip"] = ip_text(row["ip"])
        yield json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
