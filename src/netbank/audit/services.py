"""The one way to write the audit trail."""

from __future__ import annotations

from typing import Any

from netbank import clock
from netbank.audit.models import AuditRecord

# Keys that must never reach the trail, whatever a caller passes.
_FORBIDDEN_KEYS = frozenset(
    {"password", "otp", "code", "seed", "secret", "token", "url", "answer", "pin", "key"}
)


def record(
    event: str,
    *,
    customer_id: int | None = None,
    operator_id: int | None = None,
    ip: str | None = None,
    **data: Any,
) -> AuditRecord:
    """Append one event. Call inside the transaction of the change it records."""
    leaked = _FORBIDDEN_KEYS.intersection(k.lower() for k in data)
    if leaked:
        raise ValueError(f"audit data must not carry secrets: {sorted(leaked)}")
    return AuditRecord.objects.create(
        occurred_at=clock.now(),
        event=event,
        customer_id=customer_id,
        operator_id=operator_id,
        ip=ip,
        data=data,
    )
