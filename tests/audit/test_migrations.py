"""Records written before the chains existed are chained by the data migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from netbank.audit.guard import guard_problems
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.services import record
from netbank.audit.verify import audit_verify

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_CHAINS = [("audit", "0001_initial")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_existing_records_are_chained_in_insert_order_and_verify() -> None:
    latest = [
        ("audit", name)
        for _app, name in MigrationExecutor(connection).loader.graph.leaf_nodes("audit")
    ]
    executor = _migrate(BEFORE_CHAINS)
    try:
        old = executor.loader.project_state(BEFORE_CHAINS).apps.get_model("audit", "AuditRecord")
        t0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
        rows = [
            (None, None, "203.0.113.9", "login.throttled"),
            (7, None, "2001:DB8::1", "login.succeeded"),
            (7, 3, None, "lockout.cleared"),
            # SQLite stored any text; PostgreSQL's inet never took one.
            (8, None, "not-an-address" if connection.vendor == "sqlite" else None, "login.failed"),
            (7, None, "192.0.2.1", "otp.accepted"),
        ]
        for n, (customer_id, operator_id, ip, event) in enumerate(rows):
            old.objects.create(
                occurred_at=t0 + timedelta(seconds=n),
                event=event,
                customer_id=customer_id,
                operator_id=operator_id,
                ip=ip,
                data={"n": n},
            )
    finally:
        _migrate(latest)

    chained = list(AuditRecord.objects.order_by("id"))
    assert [(r.chain, r.seq) for r in chained] == [
        ("system", 1),
        ("customer:7", 1),
        ("operator:3", 1),
        ("customer:8", 1),
        ("customer:7", 2),
    ]
    assert chained[4].prev_hash == chained[1].hash
    assert chained[1].ip == "2001:db8::1"
    assert chained[3].ip is None
    if connection.vendor == "sqlite":
        assert chained[3].data == {"n": 3, "ip_unparsed": "not-an-address"}
    assert AuditChainHead.objects.get(chain="customer:7").seq == 2
    assert guard_problems(connection) == []
    report = audit_verify(checkpoint_dir=None)
    assert report.ok, [str(f) for f in report.findings]
    # New appends continue the migrated chains.
    assert record("login.succeeded", customer_id=7).seq == 3
