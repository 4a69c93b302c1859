"""The one way to write the audit trail."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection, models, transaction
from django.db.backends.utils import CursorWrapper

from netbank import clock
from netbank.audit.chain import chain_key, ip_text, record_digest
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.secrecy import AuditDataError, data_checked

__all__ = ["AuditDataError", "record"]

_EVENT_MAX = AuditRecord._meta.get_field("event").max_length or 64

# Every security event passes here, inside the caller's transaction, so an append is
# plain SQL: read and lock the head, then insert the record and move the head. On
# PostgreSQL the last two travel as one statement (one round trip instead of two);
# values are prepared by the model's own fields, exactly as the ORM would store them.
_COLUMNS = (
    "occurred_at",
    "event",
    "customer_id",
    "operator_id",
    "ip",
    "data",
    "chain",
    "seq",
    "prev_hash",
    "hash",
)
_FIELDS = [
    field
    for name in _COLUMNS
    if isinstance(field := AuditRecord._meta.get_field(name), models.Field)
]
_INSERT_SQL = (
    f"INSERT INTO audit_auditrecord ({', '.join(_COLUMNS)}) "  # noqa: S608 - fixed names
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)
_LOCK_SQL = "SELECT id, seq, hash FROM audit_auditchainhead WHERE chain = %s"
_ADVANCE_SQL = "UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE id = %s"
_INSERT_AND_ADVANCE_SQL = (
    f"WITH inserted AS ({_INSERT_SQL} RETURNING id) "  # noqa: S608 - fixed names
    f"{_ADVANCE_SQL} RETURNING (SELECT id FROM inserted)"
)


def _head_locked(cursor: CursorWrapper, key: str) -> tuple[int, int, str] | None:
    """The chain's head row, locked until the transaction ends (SQLite has no row
    locks; it lets one writer at a time into the whole database)."""
    sql = _LOCK_SQL + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    cursor.execute(sql, [key])
    row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]), str(row[2]))


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
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        head = _head_locked(cursor, key)
        if head is None:  # the chain's first record: make its head (races are fine)
            AuditChainHead.objects.get_or_create(chain=key)
            head = _head_locked(cursor, key)
            if head is None:  # heads are never deleted (a trigger refuses it)
                raise RuntimeError(f"audit chain head {key} vanished")
        head_id, head_seq, head_hash = head
        occurred_at = clock.now()
        seq = head_seq + 1
        digest = record_digest(
            chain=key,
            seq=seq,
            prev_hash=head_hash,
            occurred_at=occurred_at,
            event=event,
            customer_id=customer_id,
            operator_id=operator_id,
            ip=ip,
            data=data,
        )
        values: dict[str, Any] = {
            "occurred_at": occurred_at,
            "event": event,
            "customer_id": customer_id,
            "operator_id": operator_id,
            "ip": ip,
            "data": data,
            "chain": key,
            "seq": seq,
            "prev_hash": head_hash,
            "hash": digest,
        }
        params = [f.get_db_prep_save(values[f.name], connection) for f in _FIELDS]
        if connection.vendor == "postgresql":
            cursor.execute(_INSERT_AND_ADVANCE_SQL, [*params, seq, digest, head_id])
            (row_id,) = cursor.fetchone()
        else:
            cursor.execute(_INSERT_SQL, params)
            row_id = cursor.lastrowid
            cursor.execute(_ADVANCE_SQL, [seq, digest, head_id])
    row = AuditRecord(id=row_id, **values)
    row._state.adding = False
    row._state.db = connection.alias
    return row
