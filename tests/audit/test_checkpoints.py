"""MAC'd checkpoints of the chain heads, written outside the database."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.checkpoints import (
    CheckpointKeyError,
    checkpoint_write,
    checkpoints_read,
    key_id,
    mac_key,
)
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.services import record
from tests.audit.support import customer_trail, triggers_off

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

KEY = "checkpoint-test-key-0123456789-abcdefghijklmnop"


@pytest.fixture
def folder(tmp_path: Path, settings: Settings) -> Path:
    settings.NETBANK_AUDIT_MAC_KEY = KEY
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(tmp_path / "cp")
    return tmp_path / "cp"


def _lines(folder: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_a_run_appends_one_line_with_every_chain_head_and_a_valid_hmac(folder: Path) -> None:
    last = customer_trail(1, events=3)[-1]
    op = record("helpdesk.login", operator_id=4)
    written = checkpoint_write(directory=folder)
    assert written.path == folder / "audit-checkpoints-2026-11.jsonl"
    (line,) = _lines(folder)
    assert line["heads"] == {"customer:1": [3, last.hash], "operator:4": [1, op.hash]}
    assert line["at"] == "2026-11-27T01:00:00.000000+00:00"
    assert line["full"] is True
    assert line["prev_mac"] is None
    # Anyone with the key can check a line with nothing but hmac and json.
    body = {k: v for k, v in line.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    expected = hmac.new(KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    assert line["mac"] == expected
    assert line["kid"] == key_id(KEY.encode())


def test_later_lines_hold_only_the_chains_that_moved_and_link_to_the_line_before(
    folder: Path,
) -> None:
    customer_trail(1, events=2)
    customer_trail(2, events=2)
    checkpoint_write(directory=folder)
    clock.advance(300)
    moved = record("login.succeeded", customer_id=2)
    second = checkpoint_write(directory=folder)
    clock.advance(300)
    third = checkpoint_write(directory=folder)
    first_line, second_line, third_line = _lines(folder)
    assert second_line["full"] is False
    assert second_line["heads"] == {"customer:2": [3, moved.hash]}
    assert (second.chains, second.total_chains) == (1, 2)
    assert third_line["heads"] == {}
    assert third.chains == 0
    assert second_line["prev_mac"] == first_line["mac"]
    assert third_line["prev_mac"] == second_line["mac"]
    assert all(line.valid for line in checkpoints_read(folder))


def test_each_month_begins_with_a_full_line(folder: Path) -> None:
    customer_trail(1, events=1)
    checkpoint_write(directory=folder)
    clock.advance(5 * 24 * 3600)  # into December
    december = checkpoint_write(directory=folder)
    assert december.path.name == "audit-checkpoints-2026-12.jsonl"
    assert december.full
    november, first_of_december = _lines(folder)
    assert first_of_december["heads"] == november["heads"]
    assert first_of_december["prev_mac"] == november["mac"]


def test_a_line_removed_from_the_middle_is_reported(folder: Path) -> None:
    customer_trail(1, events=1)
    for _ in range(3):
        checkpoint_write(directory=folder)
        clock.advance(60)
    path = next(folder.glob("*.jsonl"))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[2])
    problems = [line.problem for line in checkpoints_read(folder)]
    assert problems[0] == ""
    assert "removed, inserted or reordered" in problems[1]


def test_lines_of_another_key_are_reported_not_trusted(folder: Path, settings: Settings) -> None:
    customer_trail(1, events=1)
    checkpoint_write(directory=folder)
    settings.NETBANK_AUDIT_MAC_KEY = "another-key-entirely-0123456789-abcdefghij"
    (line,) = checkpoints_read(folder)
    assert not line.valid
    assert "another key" in line.problem


def test_a_garbage_line_is_reported(folder: Path) -> None:
    customer_trail(1, events=1)
    checkpoint_write(directory=folder)
    with next(folder.glob("*.jsonl")).open("a") as fh:
        fh.write("{not json\n")
    lines = checkpoints_read(folder)
    assert [line.problem for line in lines] == ["", "not a JSON line"]


def test_after_a_bad_line_the_next_run_writes_in_full(folder: Path) -> None:
    customer_trail(1, events=1)
    checkpoint_write(directory=folder)
    path = next(folder.glob("*.jsonl"))
    path.write_text(path.read_text().replace('"full":true', '"full":false'))
    clock.advance(60)
    assert checkpoint_write(directory=folder).full


def test_production_without_a_key_refuses(settings: Settings, tmp_path: Path) -> None:
    settings.PRODUCTION = True
    settings.NETBANK_AUDIT_MAC_KEY = ""
    with pytest.raises(CheckpointKeyError, match="NETBANK_AUDIT_MAC_KEY must be set"):
        mac_key()
    with pytest.raises(CommandError, match="NETBANK_AUDIT_MAC_KEY must be set"):
        call_command("audit_checkpoint", dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_short_key_is_refused(settings: Settings) -> None:
    settings.NETBANK_AUDIT_MAC_KEY = "too-short"
    with pytest.raises(CheckpointKeyError, match="at least 32"):
        mac_key()


def test_development_generates_a_key_into_the_data_folder_once(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.NETBANK_AUDIT_MAC_KEY = ""
    monkeypatch.setenv("NETBANK_DATA_DIR", str(tmp_path))
    key = mac_key()
    assert len(key) >= 32
    assert (tmp_path / "audit_mac_key").read_text().strip().encode() == key
    assert (tmp_path / "audit_mac_key").stat().st_mode & 0o077 == 0
    assert mac_key() == key


def test_command_reports_what_it_wrote(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    customer_trail(1, events=2)
    call_command("audit_checkpoint")
    out = capsys.readouterr().out
    assert "audit-checkpoints-2026-11.jsonl: 1 all of 1 chains" in out


def test_command_fails_when_a_chain_is_behind_an_earlier_line(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = customer_trail(1, events=3)
    call_command("audit_checkpoint")
    with triggers_off():
        AuditRecord.objects.filter(pk=mine[2].pk).delete()
        AuditChainHead.objects.filter(chain="customer:1").update(seq=2, hash=mine[1].hash)
    clock.advance(60)
    with pytest.raises(CommandError, match="cut short") as caught:
        call_command("audit_checkpoint")
    assert caught.value.returncode == 1
    assert "BEHIND customer:1: now at seq 2, pinned at seq 3" in capsys.readouterr().err
    assert len(_lines(folder)) == 2  # the line is written all the same: it is evidence
