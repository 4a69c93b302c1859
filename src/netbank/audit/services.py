"""The one way to write the audit trail."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from netbank import clock
from netbank.audit.chain import chain_key, ip_text, record_digest
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.secrecy import AuditDataError, data_checked

__all__ = ["AuditDataError", "record"]

_EVENT_MAX = AuditRecord._meta.get_field("event").max_length or 64


def _principal(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise AuditDataError(f"{name} must be an int, not {type(value).__name__}")
    return value


def record(
    event: str,
    *,
    customer_id: int | None = None,
    operator_id: int | None = None,
    ip: str | None = None,
    **data: Any,
) -> AuditRecord:
    """Append one event. Call inside the transaction of the change it records.

    The record goes on its operator's chain, else its customer's, else the system chain.
    Only that chain's head row is locked, until the caller's transaction ends: appends
    for other customers go on in parallel, and the chain's order is the commit order.
    """
    if not event or len(event) > _EVENT_MAX:
        raise AuditDataError(f"audit event name must be 1–{_EVENT_MAX} characters")
    customer_id = _principal(customer_id, "customer_id")
    operator_id = _principal(operator_id, "operator_id")
    data = data_checked(data)
    try:
        ip = ip_text(ip)
    except ValueError:
        # Not an address (a misconfigured proxy or server): keep the event, and what was
        # given, reduced to address characters so it can carry nothing else.
        data["ip_unparsed"] = re.sub(r"[^0-9A-Za-z:.%_\-]", "?", str(ip))[:64]
        ip = None
    key = chain_key(customer_id=customer_id, operator_id=operator_id)
    # No savepoint: a failed append must fail the caller's whole change.
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(chain=key)
        occurred_at = clock.now()
        seq = head.seq + 1
        digest = record_digest(
            chain=key,
            seq=seq,
            prev_hash=head.hash,
            occurred_at=occurred_at,
            event=event,
            customer_id=customer_id,
            operator_id=operator_id,
            ip=ip,
            data=data,
        )
        row = AuditRecord.objects.create(
            occurred_at=occurred_at,
            event=event,
            customer_id=customer_id,
            operator_id=operator_id,
            ip=ip,
            data=data,
            chain=key,
            seq=seq,
            prev_hash=head.hash,
            hash=digest,
        )
        AuditChainHead.objects.filter(pk=head.pk).update(seq=seq, hash=digest)
    return row
