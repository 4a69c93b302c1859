"""The one way to write the audit trail."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.backends.utils import CursorWrapper

from netbank import clock
from netbank.audit.chain import (
    ENCODING_END,
    SEQ_SEPARATOR,
    canonical_prefix,
    chain_key,
    ip_text,
    record_digest,
)
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.secrecy import AuditDataError, data_checked
from netbank.ops import request_id

__all__ = ["AuditDataError", "Guard", "record", "record_if", "record_on"]

_EVENT_MAX = AuditRecord._meta.get_field("event").max_length or 64

# Every security event passes here, inside the caller's transaction, so an append is
# plain SQL. On PostgreSQL it is one statement (docs/performance.md): lock the chain's
# head, insert the record with the digest finished by the database (the canonical
# encoding's prefix comes from Python, netbank.audit.chain), move the head. Elsewhere
# (SQLite) it is the same three steps as statements of their own, the digest from Python.
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
# The record from the locked head, the digest finished by PostgreSQL's sha256().
_INSERT_FROM_HEAD = f"""
    INSERT INTO audit_auditrecord ({", ".join(_COLUMNS)})
    SELECT %(occurred_at)s::timestamptz, %(event)s, %(customer_id)s::bigint,
        %(operator_id)s::bigint, %(ip)s::inet, %(data)s::jsonb, %(chain)s, head.seq, head.hash,
        encode(sha256(convert_to(
            %(prefix)s::text || head.hash || %(separator)s::text || head.seq::text || %(end)s::text,
            'UTF8')), 'hex')
    FROM head
    RETURNING id, seq, prev_hash, hash
"""  # noqa: S608 - fixed names
_MOVE_HEAD = """
    UPDATE audit_auditchainhead h SET seq = inserted.seq, hash = inserted.hash
    FROM inserted WHERE h.chain = %(chain)s
    RETURNING inserted.id, inserted.seq, inserted.prev_hash, inserted.hash
"""
# FOR UPDATE returns the head as the last committed append left it, also after waiting
# for another append's lock; the final UPDATE then moves that same (newest) row.
_APPEND_SQL = f"""
WITH head AS (
    SELECT seq + 1 AS seq, hash FROM audit_auditchainhead WHERE chain = %(chain)s FOR UPDATE
), inserted AS ({_INSERT_FROM_HEAD})
{_MOVE_HEAD}
""".strip()  # noqa: S608 - fixed names
# The same append behind a guard: a data-modifying statement (UPDATE … RETURNING) in the
# same round trip; the record is appended only if the guard returned a row. The first
# column says how many rows it returned.
_GUARDED_APPEND_SQL = f"""
WITH guard AS ({{guard}}), head AS (
    SELECT seq + 1 AS seq, hash FROM audit_auditchainhead
    WHERE chain = %(chain)s AND EXISTS (SELECT FROM guard) FOR UPDATE
), inserted AS ({_INSERT_FROM_HEAD}), moved AS ({_MOVE_HEAD})
SELECT (SELECT count(*) FROM guard), moved.id
FROM (SELECT) AS one LEFT JOIN moved ON true
"""  # noqa: S608 - fixed names
# The append's own parameter names (a guard's must differ).
_APPEND_NAMES = frozenset({*_COLUMNS[:7], "prefix", "separator", "end"})


def _head_locked(cursor: CursorWrapper, key: str) -> tuple[int, int, str] | None:
    """The chain's head row, locked until the transaction ends (SQLite has no row
    locks; it lets one writer at a time into the whole database)."""
    sql = _LOCK_SQL + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    cursor.execute(sql, [key])
    row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]), str(row[2]))


def _append_params(values: dict[str, Any]) -> dict[str, Any]:
    return {
        **values,
        "data": json.dumps(values["data"]),
        "prefix": canonical_prefix(**values),  # values holds exactly the record's fields
        "separator": SEQ_SEPARATOR,
        "end": ENCODING_END,
    }


def _link(row: tuple[Any, ...]) -> tuple[int, int, str, str]:
    return int(row[0]), int(row[1]), str(row[2]), str(row[3])


def _append_one_statement(
    cursor: CursorWrapper, values: dict[str, Any]
) -> tuple[int, int, str, str] | None:
    """Lock the head, insert, move the head: one round trip (PostgreSQL). None if the
    chain has no head yet."""
    cursor.execute(_APPEND_SQL, _append_params(values))
    row = cursor.fetchone()
    return None if row is None else _link(row)


def _append_steps(
    cursor: CursorWrapper, values: dict[str, Any]
) -> tuple[int, int, str, str] | None:
    """The same append as statements of their own, the digest from Python (SQLite, whose
    one writer at a time holds the whole database)."""
    head = _head_locked(cursor, values["chain"])
    if head is None:
        return None
    head_id, head_seq, head_hash = head
    seq = head_seq + 1
    digest = record_digest(seq=seq, prev_hash=head_hash, **values)
    link = {**values, "seq": seq, "prev_hash": head_hash, "hash": digest}
    cursor.execute(_INSERT_SQL, [f.get_db_prep_save(link[f.name], connection) for f in _FIELDS])
    row_id = cursor.lastrowid
    cursor.execute(_ADVANCE_SQL, [seq, digest, head_id])
    return int(row_id), seq, head_hash, digest


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
    values = _values(event, customer_id=customer_id, operator_id=operator_id, ip=ip, data=data)
    # No savepoint: a failed append must fail the caller's whole change.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        return _append(cursor, values)


def record_on(
    cursor: CursorWrapper,
    event: str,
    *,
    customer_id: int | None = None,
    operator_id: int | None = None,
    ip: str | None = None,
    **data: Any,
) -> AuditRecord:
    """``record`` on a cursor of the caller's open transaction: for a hot path that
    already holds one (a cursor's first statement costs more than its later ones)."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_on() runs inside the caller's transaction.atomic()")
    values = _values(event, customer_id=customer_id, operator_id=operator_id, ip=ip, data=data)
    return _append(cursor, values)


def _values(
    event: str,
    *,
    customer_id: int | None,
    operator_id: int | None,
    ip: str | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The record's columns but its chain link, checked (AuditDataError) before any SQL."""
    if not event or len(event) > _EVENT_MAX:
        raise AuditDataError(f"audit event name must be 1–{_EVENT_MAX} characters")
    customer_id = _principal(customer_id, "customer_id")
    operator_id = _principal(operator_id, "operator_id")
    data = data_checked(data)
    # The request the event happened in, to match it with that request's log lines. A
    # well-formed id (netbank.ops.request_id) is letters, digits and punctuation only.
    rid = request_id.current()
    if rid is not None:
        data["request_id"] = rid
    try:
        ip = ip_text(ip)
    except ValueError:
        # Not an address (a misconfigured proxy or server): keep the event, and what was
        # given, reduced to address characters so it can carry nothing else.
        data["ip_unparsed"] = re.sub(r"[^0-9A-Za-z:.%_\-]", "?", str(ip))[:64]
        ip = None
    return {
        "occurred_at": clock.now(),
        "event": event,
        "customer_id": customer_id,
        "operator_id": operator_id,
        "ip": ip,
        "data": data,
        "chain": chain_key(customer_id=customer_id, operator_id=operator_id),
    }


def _append(cursor: CursorWrapper, values: dict[str, Any]) -> AuditRecord:
    append = _append_one_statement if connection.vendor == "postgresql" else _append_steps
    appended = append(cursor, values)
    if appended is None:  # the chain's first record: make its head (races are fine)
        AuditChainHead.objects.get_or_create(chain=values["chain"])
        appended = append(cursor, values)
        if appended is None:  # heads are never deleted (a trigger refuses it)
            raise RuntimeError(f"audit chain head {values['chain']} vanished")
    return _row(values, appended)


def _row(values: dict[str, Any], link: tuple[int, int, str, str]) -> AuditRecord:
    row_id, values["seq"], values["prev_hash"], values["hash"] = link
    row = AuditRecord(id=row_id, **values)
    row._state.adding = False
    row._state.db = connection.alias
    return row


@dataclass(frozen=True)
class Guard:
    """A data-modifying statement that returns a row when it did its work (``UPDATE …
    WHERE <condition> RETURNING id``), with named parameters (``%(name)s``)."""

    sql: str
    params: dict[str, Any]


@functools.cache
def _guarded_sql(guard: str) -> str:
    return _GUARDED_APPEND_SQL.format(guard=guard).strip()


def record_if(
    cursor: CursorWrapper,
    guard: Guard,
    event: str,
    *,
    customer_id: int | None = None,
    operator_id: int | None = None,
    ip: str | None = None,
    **data: Any,
) -> bool:
    """Run ``guard`` and append the event only if it returned a row (one round trip on
    PostgreSQL). Returns whether it did: False means nothing was appended. On a cursor of
    the caller's open transaction, as ``record_on``: the change and its record commit
    together or not at all."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_if() runs inside the caller's transaction.atomic()")
    if clash := _APPEND_NAMES & guard.params.keys():
        raise ValueError(f"guard parameter names taken by the append: {sorted(clash)}")
    values = _values(event, customer_id=customer_id, operator_id=operator_id, ip=ip, data=data)
    if connection.vendor == "postgresql":
        cursor.execute(_guarded_sql(guard.sql), {**guard.params, **_append_params(values)})
        guarded, appended_id = cursor.fetchone()[:2]
        if not guarded:
            return False
        if appended_id is not None:
            return True
        # The chain's first record: the guard did its work; append as record_on does.
    else:
        cursor.execute(guard.sql, guard.params)
        if not cursor.fetchall():
            return False
    _append(cursor, values)
    return True
