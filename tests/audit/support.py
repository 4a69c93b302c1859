"""Helpers for the audit tests: an attacker who owns the database, and small trails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from netbank.audit.models import AuditRecord
from netbank.audit.services import record

TABLES = ("audit_auditrecord", "audit_auditchainhead")


@contextmanager
def triggers_off() -> Iterator[None]:
    """Someone with the database owner's rights switches the append-only triggers off.

    Written with plain SQL, apart from the application's own code (netbank.audit.guard),
    as an attacker would; the triggers are back when the block ends.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            try:
                yield
            finally:
                for table in TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN ('audit_auditrecord', 'audit_auditchainhead')"
            )
            saved = cursor.fetchall()
            assert saved, "the append-only triggers should exist"
            for name, _sql in saved:
                cursor.execute(f"DROP TRIGGER {name}")
            try:
                yield
            finally:
                for _name, sql in saved:
                    cursor.execute(sql)


def customer_trail(customer_id: int, events: int = 5) -> list[AuditRecord]:
    """``events`` records on one customer's chain."""
    return [
        record(f"test.event{n}", customer_id=customer_id, ip="192.0.2.10", n=n)
        for n in range(1, events + 1)
    ]
