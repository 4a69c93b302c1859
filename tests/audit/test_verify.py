"""`netbank verify-audit` against someone who can write the database directly.

Each attack runs with the triggers switched off (``triggers_off``), as the database's
owner could; the verifier must name what was done.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.checkpoints import checkpoint_write
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.services import record
from netbank.audit.verify import Report, audit_verify
from tests.audit.support import customer_trail, triggers_off

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


@pytest.fixture
def checkpoints(tmp_path: Path, settings: Settings) -> Path:
    folder = tmp_path / "checkpoints"
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(folder)
    return folder


def _verify(folder: Path | None = None) -> Report:
    return audit_verify(checkpoint_dir=folder)


def _findings(report: Report) -> list[str]:
    return [str(f) for f in report.findings]


def _trails() -> list[AuditRecord]:
    """Three chains; returns customer 1's five records."""
    mine = customer_trail(1, events=5)
    customer_trail(2, events=3)
    record("helpdesk.login", operator_id=9, ip="192.0.2.9")
    return mine


def test_untouched_trail_with_checkpoints_is_intact(checkpoints: Path) -> None:
    _trails()
    checkpoint_write(directory=checkpoints)
    clock.advance(60)
    customer_trail(1, events=2)
    report = _verify(checkpoints)
    assert report.ok, _findings(report)
    assert (report.records, report.chains, report.checkpoints_used) == (11, 3, 1)


def test_edited_record_is_found() -> None:
    victim = _trails()[2]
    with triggers_off():
        AuditRecord.objects.filter(pk=victim.pk).update(data={"n": 99})
    report = _verify()
    assert [(f.kind, f.chain, f.seq) for f in report.findings] == [("edited", "customer:1", 3)]


@pytest.mark.parametrize("field", ["event", "ip", "customer_id", "operator_id", "occurred_at"])
def test_any_edited_field_is_found(field: str) -> None:
    victim = _trails()[1]
    new = {
        "event": "login.succeeded",
        "ip": "198.51.100.1",
        "customer_id": 2,
        "operator_id": 1,
        "occurred_at": victim.occurred_at + timedelta(microseconds=1),
    }[field]
    with triggers_off():
        AuditRecord.objects.filter(pk=victim.pk).update(**{field: new})
    assert [(f.kind, f.seq) for f in _verify().findings] == [("edited", 2)]


def test_edit_that_also_rewrites_the_hash_breaks_the_next_link() -> None:
    mine = _trails()
    with triggers_off():
        AuditRecord.objects.filter(pk=mine[1].pk).update(hash="f" * 64)
    report = _verify()
    assert {(f.kind, f.seq) for f in report.findings} == {("edited", 2), ("deleted", 3)}


def test_deleted_record_is_found() -> None:
    victim = _trails()[2]
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditrecord WHERE id = %s", [victim.pk])
    report = _verify()
    assert [(f.kind, f.chain, f.seq) for f in report.findings] == [("deleted", "customer:1", 4)]
    assert "seq 3 missing" in report.findings[0].message


def test_reordered_records_are_found() -> None:
    """Swap two records' places in the chain (their seq numbers)."""
    a, b = _trails()[1:3]
    with triggers_off():
        AuditRecord.objects.filter(pk=a.pk).update(seq=1000)
        AuditRecord.objects.filter(pk=b.pk).update(seq=a.seq)
        AuditRecord.objects.filter(pk=a.pk).update(seq=b.seq)
    kinds = _verify().kinds()
    assert "reordered" in kinds
    assert "edited" in kinds


def test_records_swapped_whole_between_rows_are_found_as_reordered() -> None:
    """Every column but the id swapped: each row still hashes right, but the order of
    insertion (ids) no longer follows the chain."""
    a, b = _trails()[1:3]
    columns = ["occurred_at", "event", "ip", "data", "seq", "prev_hash", "hash"]
    values = {r.pk: {c: getattr(r, c) for c in columns} for r in (a, b)}
    with triggers_off():
        AuditRecord.objects.filter(pk=a.pk).update(seq=1000)
        AuditRecord.objects.filter(pk=b.pk).update(**values[a.pk])
        AuditRecord.objects.filter(pk=a.pk).update(**values[b.pk])
    report = _verify()
    assert [f.kind for f in report.findings] == ["reordered"]


def test_truncated_tail_with_the_head_left_alone_is_found() -> None:
    mine = _trails()
    with triggers_off():
        AuditRecord.objects.filter(pk__in=[mine[3].pk, mine[4].pk]).delete()
    report = _verify()
    assert [(f.kind, f.chain) for f in report.findings] == [("truncated", "customer:1")]


def _truncate_and_cover_up(mine: list[AuditRecord], keep: int) -> None:
    """Cut customer 1's chain after ``keep`` records and wind its head back to match."""
    with triggers_off():
        AuditRecord.objects.filter(pk__in=[r.pk for r in mine[keep:]]).delete()
        AuditChainHead.objects.filter(chain="customer:1").update(seq=keep, hash=mine[keep - 1].hash)


def test_covered_up_truncation_is_invisible_without_checkpoints() -> None:
    """Why the checkpoints exist: a chain cut at its end, head rewound, looks whole."""
    mine = _trails()
    _truncate_and_cover_up(mine, keep=3)
    assert _verify().ok


def test_covered_up_truncation_is_found_by_a_checkpoint(checkpoints: Path) -> None:
    mine = _trails()
    checkpoint_write(directory=checkpoints)
    _truncate_and_cover_up(mine, keep=3)
    report = _verify(checkpoints)
    assert [(f.kind, f.chain, f.seq) for f in report.findings] == [("truncated", "customer:1", 5)]
    assert "ends at seq 3" in report.findings[0].message


def test_truncated_then_refilled_chain_is_found_as_rewritten(checkpoints: Path) -> None:
    mine = _trails()
    checkpoint_write(directory=checkpoints)
    _truncate_and_cover_up(mine, keep=3)
    customer_trail(1, events=2)  # seq 4 and 5 again, but other records
    report = _verify(checkpoints)
    assert [(f.kind, f.seq) for f in report.findings] == [("rewritten", 5)]


def test_whole_chain_removed_is_found(checkpoints: Path) -> None:
    _trails()
    checkpoint_write(directory=checkpoints)
    with triggers_off():
        AuditRecord.objects.filter(chain="customer:2").delete()
        AuditChainHead.objects.filter(chain="customer:2").delete()
    report = _verify(checkpoints)
    assert [(f.kind, f.chain) for f in report.findings] == [("truncated", "customer:2")]


def test_an_older_checkpoint_still_counts_after_a_newer_one_saw_the_truncation(
    checkpoints: Path,
) -> None:
    """A checkpoint taken after the cover-up does not launder it."""
    mine = _trails()
    checkpoint_write(directory=checkpoints)
    clock.advance(300)
    _truncate_and_cover_up(mine, keep=2)
    clock.advance(300)
    written = checkpoint_write(directory=checkpoints)
    assert written.behind == ["customer:1: now at seq 2, pinned at seq 5"]
    assert "truncated" in _verify(checkpoints).kinds()


def test_missing_or_disabled_trigger_is_reported() -> None:
    _trails()
    with triggers_off():
        report = _verify()
    assert report.kinds() == {"guard"}
    assert _verify().ok


def test_forged_checkpoint_line_is_reported_and_not_trusted(checkpoints: Path) -> None:
    mine = _trails()
    checkpoint_write(directory=checkpoints)
    path = next(checkpoints.glob("*.jsonl"))
    # Someone without the key "moves" the checkpoint back to hide a truncation.
    path.write_text(path.read_text().replace('"customer:1":[5,', '"customer:1":[3,'))
    _truncate_and_cover_up(mine, keep=3)
    report = _verify(checkpoints)
    assert [f.kind for f in report.findings] == ["checkpoint"]
    assert "bad MAC" in report.findings[0].message
    assert report.checkpoints_used == 0


def test_command_exits_zero_on_an_intact_trail(
    checkpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trails()
    call_command("audit_checkpoint")
    call_command("verify_audit", checkpoints=checkpoints)
    out = capsys.readouterr().out
    assert "audit trail intact: 9 records in 3 chains; 1 of 1 checkpoint lines used" in out


def test_command_exits_one_and_names_every_finding(
    checkpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = _trails()
    call_command("audit_checkpoint")
    with triggers_off():
        AuditRecord.objects.filter(pk=mine[0].pk).update(event="tampered")
    _truncate_and_cover_up(mine, keep=3)
    with pytest.raises(CommandError, match="NOT intact: 2 finding") as caught:
        call_command("verify_audit", checkpoints=checkpoints)
    assert caught.value.returncode == 1
    out = capsys.readouterr().out
    assert "EDITED [customer:1, seq 1, record id" in out
    assert "TRUNCATED [customer:1, seq 5]: checkpoint audit-checkpoints-2026-11.jsonl:1" in out


def test_command_without_checkpoints_warns_that_truncation_cannot_be_seen(
    checkpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trails()
    call_command("verify_audit")
    assert "WARNING no valid checkpoint" in capsys.readouterr().err


def test_command_with_a_checkpoint_folder_that_does_not_exist_exits_two(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no checkpoint folder") as caught:
        call_command("verify_audit", checkpoints=tmp_path / "nowhere")
    assert caught.value.returncode == 2
