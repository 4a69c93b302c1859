"""`netbank export-audit --format jsonl`: every field, re-verifiable from the file alone."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from netbank import clock
from netbank.audit.export import audit_export_lines
from netbank.audit.services import record
from tests.audit.support import customer_trail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _recompute(line: dict[str, object]) -> str:
    """The chain digest from an exported line, by the rule in docs/audit.md only."""
    fields = ["chain", "seq", "prev_hash", "occurred_at", "event"]
    fields += ["customer_id", "operator_id", "ip", "data"]
    payload = {k: line[k] for k in fields}
    payload["v"] = 1
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def test_export_has_every_field_and_each_chain_recomputes_from_the_file_alone() -> None:
    customer_trail(1, events=3)
    record("helpdesk.login", operator_id=2, ip="2001:db8::5", note="窓口")
    lines = [json.loads(line) for line in audit_export_lines()]
    assert len(lines) == 4
    assert set(lines[0]) == {
        "id",
        "chain",
        "seq",
        "occurred_at",
        "event",
        "customer_id",
        "operator_id",
        "ip",
        "data",
        "prev_hash",
        "hash",
    }
    assert lines[3]["data"] == {"note": "窓口"}
    previous: dict[str, str] = {}
    for line in lines:
        assert _recompute(line) == line["hash"]
        assert line["prev_hash"] == previous.get(str(line["chain"]), "0" * 64)
        previous[str(line["chain"])] = str(line["hash"])


def test_since_takes_a_time_with_offset_or_a_date_in_the_banks_time_zone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    record("early", customer_id=1)  # 2026-11-27 01:00 UTC = 10:00 JST
    clock.advance(14 * 3600)  # 2026-11-27 15:00 UTC = 2026-11-28 00:00 JST
    record("late", customer_id=1)
    call_command("export_audit", format="jsonl", since="2026-11-28")
    events = [json.loads(x)["event"] for x in capsys.readouterr().out.splitlines()]
    assert events == ["late"]
    call_command("export_audit", since="2026-11-27T10:00+09:00")
    events = [json.loads(x)["event"] for x in capsys.readouterr().out.splitlines()]
    assert events == ["early", "late"]


@pytest.mark.parametrize("bad", ["2026-11-27T10:00", "yesterday", "2026-13-01"])
def test_since_without_offset_or_unreadable_is_refused(bad: str) -> None:
    with pytest.raises(CommandError, match="--since"):
        call_command("export_audit", since=bad)


def test_export_to_a_file_never_overwrites_one(tmp_path: Path) -> None:
    customer_trail(1, events=2)
    out = tmp_path / "audit.jsonl"
    call_command("export_audit", output=out)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    with pytest.raises(CommandError, match="cannot create"):
        call_command("export_audit", output=out)
