"""The database itself refuses to change or remove audit records (PostgreSQL and SQLite)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from pytest_django.fixtures import Settings

from netbank.audit.guard import guard_lifted, guard_problems
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.services import record
from tests.audit.support import customer_trail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _refused(sql: str, params: list[object]) -> str:
    """Run ``sql``; both databases must refuse it as an integrity error."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(caught.value)


def test_every_append_only_trigger_is_in_place() -> None:
    assert guard_problems(connection) == []


def test_plain_sql_delete_of_one_record_is_refused() -> None:
    victim = customer_trail(1, events=3)[1]
    message = _refused("DELETE FROM audit_auditrecord WHERE id = %s", [victim.pk])
    assert "append-only" in message
    assert AuditRecord.objects.filter(pk=victim.pk).exists()


def test_plain_sql_update_of_one_record_is_refused() -> None:
    victim = customer_trail(1, events=3)[1]
    message = _refused("UPDATE audit_auditrecord SET event = %s WHERE id = %s", ["x", victim.pk])
    assert "append-only" in message
    victim.refresh_from_db()
    assert victim.event == "test.event2"


def test_orm_update_and_delete_are_refused() -> None:
    customer_trail(1, events=2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(customer_id=1).update(data={})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(customer_id=1).delete()
    assert AuditRecord.objects.filter(customer_id=1).count() == 2


def test_deleting_every_record_at_once_is_refused() -> None:
    customer_trail(1, events=2)
    _refused("DELETE FROM audit_auditrecord", [])
    assert AuditRecord.objects.count() == 2


def test_truncate_is_refused_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE is refused above")
    customer_trail(1, events=2)
    message = _refused("TRUNCATE audit_auditrecord", [])
    assert "append-only" in message
    _refused("TRUNCATE audit_auditchainhead", [])
    assert AuditRecord.objects.count() == 2


def test_a_chain_head_cannot_be_wound_back_or_removed() -> None:
    customer_trail(1, events=3)
    head = AuditChainHead.objects.get(chain="customer:1")
    _refused("UPDATE audit_auditchainhead SET seq = 1 WHERE id = %s", [head.pk])
    _refused("UPDATE audit_auditchainhead SET seq = seq + 2 WHERE id = %s", [head.pk])
    _refused("UPDATE audit_auditchainhead SET chain = 'customer:2' WHERE id = %s", [head.pk])
    _refused("DELETE FROM audit_auditchainhead WHERE id = %s", [head.pk])
    head.refresh_from_db()
    assert head.seq == 3


def test_appends_still_work_with_the_triggers_in_place() -> None:
    customer_trail(1, events=2)
    assert record("test.more", customer_id=1).seq == 3


def test_flush_is_refused_outside_the_test_settings(settings: Settings) -> None:
    customer_trail(1, events=1)
    settings.NETBANK_AUDIT_FLUSH_ALLOWED = False
    with pytest.raises(CommandError, match="append-only"):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditRecord.objects.count() == 1


def test_lifting_the_guard_needs_a_transaction_and_puts_it_back() -> None:
    customer_trail(1, events=2)
    with transaction.atomic(), guard_lifted(connection):
        assert guard_problems(connection) != []
        AuditRecord.objects.filter(customer_id=1).delete()
        AuditChainHead.objects.all().delete()
    assert guard_problems(connection) == []
    assert not AuditRecord.objects.exists()
    customer_trail(2, events=1)
    _refused("DELETE FROM audit_auditrecord", [])


def test_a_failure_while_lifted_rolls_the_lift_back_too() -> None:
    customer_trail(1, events=2)

    def delete_then_fail() -> None:
        with transaction.atomic(), guard_lifted(connection):
            AuditRecord.objects.filter(customer_id=1).delete()
            raise RuntimeError("the flush failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        delete_then_fail()
    assert AuditRecord.objects.count() == 2
    assert guard_problems(connection) == []


@pytest.mark.django_db(transaction=True)
def test_the_guard_is_never_lifted_outside_a_transaction() -> None:
    # Autocommit here: a lift would be visible to every other connection at once.
    customer_trail(1, events=2)
    with pytest.raises(RuntimeError, match="inside a transaction"), guard_lifted(connection):
        pass  # pragma: no cover
    assert guard_problems(connection) == []
    _refused("DELETE FROM audit_auditrecord", [])
    # The test runner's flush after this test empties the tables (test settings only).


@pytest.mark.django_db(transaction=True)
def test_the_test_runners_flush_empties_the_trail_and_keeps_the_guard() -> None:
    assert not AuditRecord.objects.exists()  # earlier transactional tests were flushed
    customer_trail(1, events=1)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditRecord.objects.exists()
    assert not AuditChainHead.objects.exists()
    assert guard_problems(connection) == []
    customer_trail(1, events=1)
    _refused("DELETE FROM audit_auditrecord", [])
