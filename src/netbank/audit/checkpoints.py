"""MAC'd checkpoints of the chain heads, kept outside the database.

A hash chain shows an edited or removed record in its middle, but not a chain cut
short at its end, nor one rebuilt from scratch by someone who can write the database.
A checkpoint pins every chain's head (seq and hash) at one moment in a file elsewhere,
under an HMAC-SHA256 key the database never holds: a later trail must still contain
exactly that record at that seq.

One JSON line per run, appended to ``audit-checkpoints-YYYY-MM.jsonl`` (UTC month):

    {"at": "...", "full": true, "heads": {"customer:7": [12, "<hash>"], ...},
     "kid": "<key id>", "mac": "<hex>", "prev_mac": "<mac of the line before, or null>",
     "v": 1}

The first line of each month's file holds every chain (``full``); later lines hold the
chains that moved since the line before, so a run costs what changed, not the number of
customers; ``gone`` (only when not empty) names pinned chains that no longer exist.
After the database was restored from a backup, ``netbank audit-checkpoint
--accept-restore`` writes a full line with ``restore``: the seq each chain was restored
to. Pins of earlier lines above it name records the restore lost; they are no longer
expected (netbank.audit.verify, docs/operations.md "Backups and restore"). ``mac`` is HMAC-SHA256 over the line's other fields as sorted, compact, ASCII
JSON. ``prev_mac`` links the lines, so a line taken out of the middle is noticed too.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import itertools
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from netbank import clock
from netbank.audit.chain import time_text
from netbank.audit.models import AuditChainHead
from netbank.config.env import local_secret

FORMAT_VERSION = 1
FILE_GLOB = "audit-checkpoints-*.jsonl"
MIN_KEY_CHARS = 32
_LOCAL_KEY_FILE = "audit_mac_key"
_KID_CONTEXT = b"netbank audit checkpoint key id\x00"

Heads = dict[str, tuple[int, str]]


class CheckpointKeyError(Exception):
    """The checkpoint MAC key is missing or too weak."""


def mac_key() -> bytes:
    """NETBANK_AUDIT_MAC_KEY; in development a key generated once into the data folder."""
    value = str(getattr(settings, "NETBANK_AUDIT_MAC_KEY", "") or "")
    if not value:
        if getattr(settings, "PRODUCTION", False):
            raise CheckpointKeyError(
                "NETBANK_AUDIT_MAC_KEY must be set when NETBANK_ENV=production "
                "(at least 32 random characters, kept away from the database)"
            )
        value = local_secret(_LOCAL_KEY_FILE)
    if len(value) < MIN_KEY_CHARS:
        raise CheckpointKeyError(
            f"NETBANK_AUDIT_MAC_KEY must have at least {MIN_KEY_CHARS} characters"
        )
    return value.encode("utf-8")


def key_id(key: bytes) -> str:
    """A public name for the key (which key made a line), not the key."""
    return hashlib.sha256(_KID_CONTEXT + key).hexdigest()[:16]


def checkpoint_dir() -> Path:
    return Path(str(settings.NETBANK_AUDIT_CHECKPOINT_DIR))


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def _mac(key: bytes, body: dict[str, Any]) -> str:
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def chain_heads() -> Heads:
    """Every chain's committed head, read in one statement (one consistent snapshot)."""
    return {
        chain: (seq, digest)
        for chain, seq, digest in AuditChainHead.objects.values_list("chain", "seq", "hash")
        if seq > 0
    }


@dataclass
class CheckpointLine:
    """One line of a checkpoint file, as read back."""

    source: str  # file:line, for reports
    at: str = ""
    heads: Heads = field(default_factory=dict)
    mac: str = ""
    prev_mac: str | None = None
    full: bool = False
    gone: list[str] = field(default_factory=list)
    # The seq each chain was restored to (an accepted restore), else None.
    restore: dict[str, int] | None = None
    problem: str = ""  # empty: the MAC is good and the line well-formed

    @property
    def valid(self) -> bool:
        return not self.problem


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob(FILE_GLOB) if p.is_file())


def _parse(raw: str, source: str, key: bytes, kid: str) -> CheckpointLine:
    line = CheckpointLine(source=source)
    try:
        obj = json.loads(raw)
    except ValueError:
        line.problem = "not a JSON line"
        return line
    if not isinstance(obj, dict):
        line.problem = "not a checkpoint object"
        return line
    line.mac = str(obj.get("mac", ""))
    prev = obj.get("prev_mac")
    line.prev_mac = prev if isinstance(prev, str) else None
    line.at = str(obj.get("at", ""))
    line.full = obj.get("full") is True
    body = {k: v for k, v in obj.items() if k != "mac"}
    if obj.get("v") != FORMAT_VERSION:
        line.problem = f"unknown checkpoint format {obj.get('v')!r}"
        return line
    if obj.get("kid") != kid:
        line.problem = (
            f"MAC'd under another key (key id {str(obj.get('kid'))[:16]!r}, this key is {kid!r})"
        )
        return line
    if not hmac.compare_digest(_mac(key, body), line.mac):
        line.problem = "bad MAC: the line was altered or forged"
        return line
    heads = obj.get("heads")
    try:
        if not isinstance(heads, dict):
            raise TypeError
        line.heads = {str(c): (int(v[0]), str(v[1])) for c, v in heads.items()}
        gone = obj.get("gone", [])
        if not isinstance(gone, list):
            raise TypeError
        line.gone = [str(c) for c in gone]
        restore = obj.get("restore")
        if restore is not None:
            if not isinstance(restore, dict):
                raise TypeError
            line.restore = {str(c): int(seq) for c, seq in restore.items()}
    except (TypeError, ValueError, IndexError, KeyError):
        line.problem = "heads are malformed"
    return line


def checkpoints_read(directory: Path, key: bytes | None = None) -> list[CheckpointLine]:
    """Every line of every checkpoint file in ``directory``, oldest first, MAC checked.

    A line whose ``prev_mac`` is not the MAC of the line before it is reported as a
    problem (a line was removed, inserted or reordered). The very first line may point
    at anything: older files may have been archived elsewhere.
    """
    key = mac_key() if key is None else key
    kid = key_id(key)
    lines = [line for path in _files(directory) for line in _read_file(path, key, kid)]
    for before, line in itertools.pairwise(lines):
        if line.valid and line.prev_mac != before.mac:
            line.problem = (
                "does not follow the line before it (prev_mac): a checkpoint line was "
                "removed, inserted or reordered"
            )
    return lines


def _read_file(path: Path, key: bytes, kid: str) -> list[CheckpointLine]:
    if not path.exists():
        return []
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        return [
            _parse(raw, f"{path.name}:{number}", key, kid)
            for number, raw in enumerate(fh, start=1)
            if raw.strip()
        ]


def state_after(state: Heads, line: CheckpointLine) -> Heads:
    """What the lines pin once ``line`` is added to what they pinned before (``state``)."""
    state = {} if line.restore is not None else dict(state)
    state.update(line.heads)
    for chain in line.gone:
        state.pop(chain, None)
    return state


def _state(lines: list[CheckpointLine]) -> Heads | None:
    """The heads a file's lines add up to, or None unless it starts full and all is valid."""
    if not lines or not lines[0].full or not all(line.valid for line in lines):
        return None
    state: Heads = {}
    for line in lines:
        state = state_after(state, line)
    return state


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One writer at a time (two cron runs overlapping), across processes."""
    fd = os.open(directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _append(path: Path, data: bytes) -> None:
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:  # make the new file's name durable too
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@dataclass
class WrittenCheckpoint:
    path: Path
    at: datetime
    full: bool
    chains: int  # chains in this line
    total_chains: int
    # Chains whose head is now behind what an earlier line of this month pinned:
    # the trail was cut short since; `netbank verify-audit` says where.
    behind: list[str]


def checkpoint_write(
    *, directory: Path | None = None, restore: dict[str, int] | None = None
) -> WrittenCheckpoint:
    """Append one MAC'd line with the chain heads to this month's checkpoint file.

    ``restore`` (an accepted restore: the seq each chain was restored to) writes every
    chain, with the restore point, so earlier pins above it are no longer expected.
    """
    directory = checkpoint_dir() if directory is None else directory
    directory.mkdir(parents=True, exist_ok=True, mode=0o750)
    key = mac_key()
    kid = key_id(key)
    with _locked(directory):
        now = clock.now()
        path = directory / f"audit-checkpoints-{now.astimezone(UTC):%Y-%m}.jsonl"
        month = _read_file(path, key, kid)
        files = _files(directory)
        earlier = [] if month or not files else _read_file(files[-1], key, kid)
        so_far = month or earlier
        previous = so_far[-1] if so_far else None
        # What the lines so far pinned. This month's lines are deltas on its first, full
        # line; when that state is in any doubt (or a month begins), write in full.
        pinned = _state(month)
        before = pinned if month else _state(earlier)
        full = pinned is None or restore is not None
        heads = chain_heads()
        delta = heads if full else {c: h for c, h in heads.items() if (pinned or {}).get(c) != h}
        # A pinned chain with no head left (removed, or not yet made at a restored point)
        # is named once, so the next line is not behind it again.
        gone = [] if full else sorted(set(pinned or {}) - set(heads))
        behind = [
            f"{chain}: now at seq {heads.get(chain, (0, ''))[0]}, pinned at seq {seq}"
            for chain, (seq, _digest) in sorted((before or {}).items())
            if heads.get(chain, (0, ""))[0] < seq
        ]
        body: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "at": time_text(now),
            "full": full,
            "heads": {chain: [seq, digest] for chain, (seq, digest) in sorted(delta.items())},
            "kid": kid,
            "prev_mac": previous.mac if previous is not None else None,
        }
        if gone:
            body["gone"] = gone
        if restore is not None:
            body["restore"] = dict(sorted(restore.items()))
        body["mac"] = _mac(key, body)
        _append(path, _canonical(body) + b"\n")
    return WrittenCheckpoint(
        path=path,
        at=now,
        full=full,
        chains=len(delta),
        total_chains=len(heads),
        behind=behind,
    )
