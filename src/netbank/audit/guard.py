"""The append-only guard: the database triggers of migration 0005, seen from the code.

``guard_problems`` tells ``netbank verify-audit`` whether every trigger is in place and
enabled. ``guard_lifted`` takes them away inside one transaction, for the test runner's
flush only (the ``flush`` command of this app, allowed by a test setting): the lift and
the restore commit together or not at all, and no other connection ever sees the
tables unguarded (SQLite holds the write lock, PostgreSQL the table lock, until commit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

RECORD_TABLE = "audit_auditrecord"
HEAD_TABLE = "audit_auditchainhead"
TABLES = (RECORD_TABLE, HEAD_TABLE)

EXPECTED_TRIGGERS: dict[str, frozenset[str]] = {
    "postgresql": frozenset(
        {
            "audit_record_append_only",
            "audit_record_no_truncate",
            "audit_head_forward_only",
            "audit_head_no_truncate",
        }
    ),
    "sqlite": frozenset(
        {
            "audit_record_no_update",
            "audit_record_no_delete",
            "audit_head_forward_only",
            "audit_head_no_delete",
        }
    ),
}


def _triggers(connection: BaseDatabaseWrapper) -> list[tuple[str, str, bool]]:
    """(name, table, enabled) of the user triggers on the audit tables."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, c.relname, t.tgenabled <> 'D' FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = ANY(%s) AND NOT t.tgisinternal "
                "AND pg_table_is_visible(c.oid)",
                [list(TABLES)],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, tbl_name, 1 FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                list(TABLES),
            )
        else:
            return []
        return [(str(n), str(t), bool(on)) for n, t, on in cursor.fetchall()]


def guard_problems(connection: BaseDatabaseWrapper) -> list[str]:
    """What is missing from the append-only guard on this database (empty: all in place)."""
    expected = EXPECTED_TRIGGERS.get(connection.vendor)
    if expected is None:
        return [f"no append-only triggers exist for {connection.vendor}"]
    present = {name: on for name, _table, on in _triggers(connection)}
    problems = [f"trigger {name} is missing" for name in sorted(expected - present.keys())]
    problems += [
        f"trigger {name} is disabled"
        for name in sorted(expected & present.keys())
        if not present[name]
    ]
    return problems


@contextmanager
def guard_lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """The audit tables without their triggers, inside the caller's transaction.

    No ``finally``: if the body fails, the caller's transaction rolls back, and with it
    the lift (DDL is transactional on both databases).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("the audit guard can only be lifted inside a transaction")
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            pairs = [(name, table) for name, table, on in _triggers(connection) if on]
            for name, table in pairs:
                cursor.execute(f"ALTER TABLE {qn(table)} DISABLE TRIGGER {qn(name)}")
            yield
            for name, table in pairs:
                cursor.execute(f"ALTER TABLE {qn(table)} ENABLE TRIGGER {qn(name)}")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                list(TABLES),
            )
            saved = cursor.fetchall()
            for name, _sql in saved:
                cursor.execute(f"DROP TRIGGER {qn(name)}")
            yield
            for _name, sql in saved:
                cursor.execute(sql)
        else:
            yield
