"""A database restored to a point before the newest checkpoint, told apart from tampering.

The restore is played here by taking every chain back to what it was at an earlier
moment (records after it gone, heads back), as a restored backup holds it; the
PostgreSQL test in tests/ops/test_backup_restore.py restores a real dump.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.checkpoints import checkpoint_write, checkpoints_read
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.restore import RestoreRefusedError, restore_accept
from netbank.audit.services import record
from netbank.audit.verify import audit_verify
from tests.audit.support import customer_trail, triggers_off

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

FILE = "audit-checkpoints-2026-11.jsonl"


@pytest.fixture
def folder(tmp_path: Path, settings: Settings) -> Path:
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(tmp_path / "cp")
    return tmp_path / "cp"


def _take_back(point: dict[str, int]) -> None:
    """Every chain as it was when it ended at ``point`` (absent: it did not exist yet)."""
    with triggers_off():
        for head in AuditChainHead.objects.all():
            keep = point.get(head.chain, 0)
            AuditRecord.objects.filter(chain=head.chain, seq__gt=keep).delete()
            if keep == 0:
                AuditChainHead.objects.filter(pk=head.pk).delete()
            else:
                last = AuditRecord.objects.get(chain=head.chain, seq=keep)
                AuditChainHead.objects.filter(pk=head.pk).update(seq=keep, hash=last.hash)


def _history(folder: Path) -> dict[str, int]:
    """Three checkpoints; returns the heads at a moment between the first and the second."""
    customer_trail(1, events=3)
    customer_trail(2, events=2)
    checkpoint_write(directory=folder)  # line 1: customer:1 @3, customer:2 @2
    clock.advance(60)
    customer_trail(1, events=1)  # customer:1 @4: the backup is taken here
    point = {"customer:1": 4, "customer:2": 2}
    clock.advance(60)
    customer_trail(1, events=2)
    customer_trail(3, events=2)  # a chain the backup does not have
    checkpoint_write(directory=folder)  # line 2
    clock.advance(60)
    customer_trail(2, events=1)
    checkpoint_write(directory=folder)  # line 3
    clock.advance(60)
    return point


def test_a_restore_is_reported_as_a_restore_between_two_checkpoints(folder: Path) -> None:
    point = _history(folder)
    _take_back(point)

    plain = audit_verify(checkpoint_dir=folder)
    assert plain.kinds() == {"truncated"}  # as a cut-short trail, without being told
    report = audit_verify(checkpoint_dir=folder, restored=True)
    assert report.ok, [str(f) for f in report.findings]
    restore = report.restore
    assert restore is not None
    assert restore.point == point
    assert (restore.after and restore.after.source, restore.before and restore.before.source) == (
        f"{FILE}:1",
        f"{FILE}:2",
    )
    assert restore.lost == [
        "customer:1: restored to seq 4, checkpoints pinned seq 6",
        "customer:2: restored to seq 2, checkpoints pinned seq 3",
        "customer:3: restored to seq 0, checkpoints pinned seq 2",
    ]
    assert f"a point between checkpoint {FILE}:1" in restore.describe()


def test_a_restored_database_that_was_also_edited_is_still_tampering(folder: Path) -> None:
    point = _history(folder)
    _take_back(point)
    victim = AuditRecord.objects.get(chain="customer:1", seq=2)
    with triggers_off():
        AuditRecord.objects.filter(pk=victim.pk).update(data={"n": 99})
    report = audit_verify(checkpoint_dir=folder, restored=True)
    assert report.kinds() == {"edited"}
    with pytest.raises(RestoreRefusedError):
        restore_accept(directory=folder)
    assert len(checkpoints_read(folder)) == 3  # nothing written


def test_a_rewritten_record_below_the_restore_point_is_still_tampering(folder: Path) -> None:
    """Cut short below a checkpoint and refilled with other records: not a restore."""
    _history(folder)
    _take_back({"customer:1": 2, "customer:2": 2})
    customer_trail(1, events=2)  # seq 3 (pinned by line 1) and 4, other records
    report = audit_verify(checkpoint_dir=folder, restored=True)
    assert [(f.kind, f.chain, f.seq) for f in report.findings] == [("rewritten", "customer:1", 3)]


def test_the_commands_say_restore_or_tampering(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    point = _history(folder)
    _take_back(point)
    with pytest.raises(CommandError, match="NOT intact") as caught:
        call_command("verify_audit")
    assert caught.value.returncode == 1
    out = capsys.readouterr().out
    assert "TRUNCATED [customer:1, seq 6]" in out
    assert "RESTORE? every finding above is what a restore from a backup leaves" in out
    assert f"restored to a point between checkpoint {FILE}:1" in out

    call_command("verify_audit", restored=True)
    out = capsys.readouterr().out
    assert f"RESTORED: restored to a point between checkpoint {FILE}:1" in out
    assert "LOST customer:3: restored to seq 0, checkpoints pinned seq 2" in out
    assert "intact up to the restore point" in out

    with triggers_off():
        AuditRecord.objects.filter(chain="customer:2", seq=1).update(event="tampered")
    with pytest.raises(CommandError, match="NOT a restore alone: tampering"):
        call_command("verify_audit", restored=True)
    out = capsys.readouterr().out
    assert "EDITED [customer:2, seq 1" in out
    assert "TAMPERING" in out
    with pytest.raises(CommandError, match="restore NOT accepted, nothing written"):
        call_command("audit_checkpoint", accept_restore=True)


def test_after_a_restore_the_bank_goes_on_and_every_check_passes_again(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The services came back before anyone accepted the restore: the worker's checkpoint
    notices once, the bank refills the lost seqs, and accepting the restore still works."""
    point = _history(folder)
    _take_back(point)
    with pytest.raises(CommandError, match="cut short, or the database was restored"):
        call_command("audit_checkpoint")  # line 4: the restored heads, as evidence
    clock.advance(60)
    customer_trail(1, events=3)  # seq 5-7 again, other records than before
    customer_trail(3, events=1)  # the chain the backup did not have, anew
    call_command("audit_checkpoint")  # line 5: goes on, not behind again
    assert "truncated" in audit_verify(checkpoint_dir=folder).kinds()

    report = audit_verify(checkpoint_dir=folder, restored=True)
    assert report.ok, [str(f) for f in report.findings]
    assert report.restore is not None
    assert report.restore.point == point

    capsys.readouterr()
    call_command("audit_checkpoint", accept_restore=True)  # line 6
    out = capsys.readouterr().out
    assert f"restore accepted: restored to a point between checkpoint {FILE}:1" in out
    (*_, accepted) = checkpoints_read(folder)
    assert accepted.restore == point
    assert accepted.full

    # From now on the plain commands pass, and still catch what they caught before.
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "audit trail intact" in out
    assert f"NOTE restore accepted in {FILE}:6" in out
    clock.advance(60)
    record("login.succeeded", customer_id=2)
    call_command("audit_checkpoint")
    call_command("verify_audit")
    victim = AuditRecord.objects.get(chain="customer:1", seq=3)
    with triggers_off():
        AuditRecord.objects.filter(pk=victim.pk).update(data={"n": 0})
    assert audit_verify(checkpoint_dir=folder).kinds() == {"edited"}


def test_an_accepted_restore_does_not_forgive_a_later_cut(folder: Path) -> None:
    point = _history(folder)
    _take_back(point)
    restore_accept(directory=folder)
    clock.advance(60)
    customer_trail(2, events=3)  # customer:2 @5
    checkpoint_write(directory=folder)
    _take_back({"customer:1": 4, "customer:2": 3})
    assert audit_verify(checkpoint_dir=folder).kinds() == {"truncated"}


def test_a_chain_gone_from_the_database_is_named_once_then_not_behind_again(
    folder: Path,
) -> None:
    customer_trail(1, events=2)
    customer_trail(2, events=2)
    checkpoint_write(directory=folder)
    _take_back({"customer:1": 2})
    clock.advance(60)
    assert checkpoint_write(directory=folder).behind == [
        "customer:2: now at seq 0, pinned at seq 2"
    ]
    assert checkpoints_read(folder)[-1].gone == ["customer:2"]
    clock.advance(60)
    assert checkpoint_write(directory=folder).behind == []
