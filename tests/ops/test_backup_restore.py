"""Backups and restore on PostgreSQL: a real dump restored into a new database.

The dump is taken between two checkpoints; more records and a checkpoint follow; the
dump is restored into a new database, and the operator's commands run against it as
separate processes, as docs/operations.md ("Backups and restore") tells them to:
verify-audit calls it a restore (not tampering), audit-checkpoint accepts it, and the bank
goes on with every check passing; a restored database that was also edited is still
reported as tampering.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from netbank.audit.checkpoints import checkpoint_write, checkpoints_read
from tests.audit.support import customer_trail

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _conninfo(name: str) -> dict[str, str]:
    db = connection.settings_dict
    return {
        "host": str(db["HOST"] or "127.0.0.1"),
        "port": str(db["PORT"] or 5432),
        "user": str(db["USER"]),
        "dbname": name,
    }


def _pg_args(name: str) -> list[str]:
    info = _conninfo(name)
    return ["-h", info["host"], "-p", info["port"], "-U", info["user"]]


def _admin(sql: str) -> None:
    with psycopg.connect(**_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(sql)


@pytest.fixture
def databases() -> Iterator[list[str]]:
    """Names of databases a test restores into; dropped afterwards."""
    made: list[str] = []
    yield made
    for name in made:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _restore(dump: Path, name: str, databases: list[str]) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    databases.append(name)
    subprocess.run(
        ["pg_restore", *_pg_args(name), "--no-owner", "--exit-on-error", "-d", name, str(dump)],
        check=True,
        capture_output=True,
    )


def _netbank(name: str, *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """A ``netbank`` command on the database ``name``, in its own process."""
    info = _conninfo(name)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings",
        "DATABASE_URL": f"postgres://{info['user']}@{info['host']}:{info['port']}/{name}",
        "NETBANK_DATA_DIR": str(tmp / "data"),
        "PYTHONPATH": str(ROOT / "src"),
    }
    return subprocess.run(
        [sys.executable, "-m", "netbank.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _psql(name: str, sql: str) -> None:
    subprocess.run(
        ["psql", *_pg_args(name), "-d", name, "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


def test_a_restored_dump_is_a_restore_and_the_bank_goes_on(
    tmp_path: Path, settings: Settings, databases: list[str]
) -> None:
    folder = tmp_path / "checkpoints"
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(folder)
    cp = str(folder)
    test_db = str(connection.settings_dict["NAME"])

    customer_trail(1, events=3)
    customer_trail(2, events=2)
    checkpoint_write(directory=folder)
    customer_trail(1, events=1)
    dump = tmp_path / "netbank.dump"
    subprocess.run(
        ["pg_dump", *_pg_args(test_db), "-Fc", "-f", str(dump), test_db],
        check=True,
        capture_output=True,
    )
    customer_trail(1, events=2)
    customer_trail(3, events=2)  # a customer the backup does not know
    checkpoint_write(directory=folder)
    (first, second) = checkpoints_read(folder)

    restored = f"{test_db}_restored"
    _restore(dump, restored, databases)

    plain = _netbank(restored, "verify-audit", "--checkpoints", cp, tmp=tmp_path)
    assert plain.returncode == 1, plain.stderr
    assert "TRUNCATED [customer:1, seq 6]" in plain.stdout
    assert "RESTORE? every finding above is what a restore from a backup leaves" in plain.stdout

    told = _netbank(restored, "verify-audit", "--checkpoints", cp, "--restored", tmp=tmp_path)
    assert told.returncode == 0, told.stdout + told.stderr
    assert (
        f"RESTORED: restored to a point between checkpoint {first.source} ({first.at}) "
        f"and {second.source} ({second.at}); records after it were lost in 2 chain(s)"
    ) in told.stdout
    assert "LOST customer:1: restored to seq 4, checkpoints pinned seq 6" in told.stdout
    assert "LOST customer:3: restored to seq 0, checkpoints pinned seq 2" in told.stdout

    # What the docs say next: accept the restore, then the bank and the jobs go on.
    accepted = _netbank(restored, "audit-checkpoint", "--dir", cp, "--accept-restore", tmp=tmp_path)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "restore accepted" in accepted.stdout
    wrote = _netbank(
        restored,
        "shell",
        "-c",
        "from netbank.audit.services import record; "
        "[record('login.succeeded', customer_id=c) for c in (1, 1, 3)]",
        tmp=tmp_path,
    )
    assert wrote.returncode == 0, wrote.stderr
    later = _netbank(restored, "audit-checkpoint", "--dir", cp, tmp=tmp_path)
    assert later.returncode == 0, later.stdout + later.stderr
    verified = _netbank(restored, "verify-audit", "--checkpoints", cp, tmp=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit trail intact" in verified.stdout
    assert "NOTE restore accepted in" in verified.stdout

    # Someone edits the restored database: tampering, restore or not.
    _psql(
        restored,
        "ALTER TABLE audit_auditrecord DISABLE TRIGGER USER; "
        "UPDATE audit_auditrecord SET data = '{\"n\": 99}' WHERE chain = 'customer:2' AND seq = 1; "
        "ALTER TABLE audit_auditrecord ENABLE TRIGGER USER;",
    )
    edited = _netbank(restored, "verify-audit", "--checkpoints", cp, "--restored", tmp=tmp_path)
    assert edited.returncode == 1
    assert "EDITED [customer:2, seq 1" in edited.stdout
    assert "TAMPERING" in edited.stdout


def test_a_restored_dump_that_was_tampered_with_is_not_accepted_as_a_restore(
    tmp_path: Path, settings: Settings, databases: list[str]
) -> None:
    folder = tmp_path / "checkpoints"
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(folder)
    cp = str(folder)
    test_db = str(connection.settings_dict["NAME"])
    customer_trail(1, events=4)
    checkpoint_write(directory=folder)
    dump = tmp_path / "netbank.dump"
    subprocess.run(
        ["pg_dump", *_pg_args(test_db), "-Fc", "-f", str(dump), test_db],
        check=True,
        capture_output=True,
    )
    customer_trail(1, events=2)
    checkpoint_write(directory=folder)

    restored = f"{test_db}_tampered"
    _restore(dump, restored, databases)
    # Cut below the first checkpoint and refilled: the record at seq 4 is not the pinned one.
    _psql(
        restored,
        "ALTER TABLE audit_auditrecord DISABLE TRIGGER USER; "
        "ALTER TABLE audit_auditchainhead DISABLE TRIGGER USER; "
        "UPDATE audit_auditrecord SET event = 'test.other', "
        "hash = repeat('a', 64) WHERE chain = 'customer:1' AND seq = 4; "
        "UPDATE audit_auditchainhead SET hash = repeat('a', 64) WHERE chain = 'customer:1'; "
        "ALTER TABLE audit_auditrecord ENABLE TRIGGER USER; "
        "ALTER TABLE audit_auditchainhead ENABLE TRIGGER USER;",
    )
    told = _netbank(restored, "verify-audit", "--checkpoints", cp, "--restored", tmp=tmp_path)
    assert told.returncode == 1
    assert "TAMPERING" in told.stdout
    refused = _netbank(restored, "audit-checkpoint", "--dir", cp, "--accept-restore", tmp=tmp_path)
    assert refused.returncode == 1
    assert "restore NOT accepted, nothing written" in refused.stderr
    assert len(checkpoints_read(folder)) == 2
