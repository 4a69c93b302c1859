"""Database triggers that make the trail append-only (PostgreSQL and SQLite).

* audit_auditrecord: UPDATE, DELETE (and TRUNCATE on PostgreSQL) are refused.
* audit_auditchainhead: DELETE (and TRUNCATE) are refused; an UPDATE must advance
  ``seq`` by exactly one on the same chain, so no head is wound back.

They stop the application, the ORM, the admin and a mistyped psql command. They do not
stop the database's owner, who can drop them: the hash chains and the checkpoints kept
outside the database are what reveal that (docs/audit.md). The test runner's flush
lifts them inside its own transaction only (netbank.audit.guard).

SQLite drops a table's triggers when Django rebuilds the table in a later migration:
such a migration must create them again (tests/audit/test_append_only.py fails if not).
"""

from django.db import migrations

POSTGRESQL_CREATE = [
    """
    CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.chain = OLD.chain
                AND NEW.seq = OLD.seq + 1 THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit chain heads only move forward: % on % refused',
            TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_auditrecord
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
    """,
    """
    CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_auditrecord
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
    """,
    """
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_auditchainhead
        FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()
    """,
    """
    CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_auditchainhead
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_auditchainhead",
    "DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_auditchainhead",
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_auditrecord",
    "DROP TRIGGER IF EXISTS audit_record_append_only ON audit_auditrecord",
    "DROP FUNCTION IF EXISTS audit_head_forward_only()",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]

SQLITE_CREATE = [
    """
    CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_auditrecord
    BEGIN
        SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE on audit_auditrecord refused');
    END
    """,
    """
    CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_auditrecord
    BEGIN
        SELECT RAISE(ABORT, 'audit trail is append-only: DELETE on audit_auditrecord refused');
    END
    """,
    """
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_auditchainhead
    WHEN NEW.id <> OLD.id OR NEW.chain <> OLD.chain OR NEW.seq <> OLD.seq + 1
    BEGIN
        SELECT RAISE(ABORT, 'audit chain heads only move forward: UPDATE refused');
    END
    """,
    """
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_auditchainhead
    BEGIN
        SELECT RAISE(ABORT, 'audit chain heads only move forward: DELETE refused');
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
    "DROP TRIGGER IF EXISTS audit_record_no_delete",
    "DROP TRIGGER IF EXISTS audit_record_no_update",
]

CREATE = {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}
DROP = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}


def create_triggers(apps, schema_editor):
    # Other vendors get no triggers; `netbank verify-audit` reports the missing guard.
    for sql in CREATE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    for sql in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_fields_required")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
