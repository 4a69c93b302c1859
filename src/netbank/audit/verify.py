"""Verification of the audit trail: every chain recomputed, heads and checkpoints compared.

What each finding means (``Finding.kind``):

* ``edited``     a record's fields no longer give its stored hash
* ``deleted``    seq numbers are missing inside a chain, or a link's prev_hash does not
                 match the record before it
* ``reordered``  a chain's records are not in insert (id) order
* ``truncated``  a chain ends before its head row or before a checkpoint pinned it,
                 or a chain pinned by a checkpoint is gone
* ``rewritten``  the record at a checkpointed seq is not the one the checkpoint pinned
* ``head``       a chain's head row disagrees with its last record in another way
* ``checkpoint`` a checkpoint line with a bad MAC, a broken link, or unreadable
* ``guard``      an append-only trigger is missing or disabled

The verifier streams the records chain by chain in seq order, so memory stays bounded
by the number of chains and checkpointed heads, not the number of records.

**Restores.** A database restored from a backup to a point before the newest checkpoint
ends its chains before the checkpoints pinned them (``truncated``) and, once the bank
writes again, refills those seqs (``rewritten``): what a cut-short trail looks like too.
``audit_verify(restored=True)`` checks the trail as restored: every chain must be an
intact prefix of what the checkpoints pinned up to the restore point (the heads of the
first checkpoint line that went back, or the heads now), and only pins above that
point are let go; any other finding is still tampering. ``Report.restore`` says between
which checkpoints the restore point lies and what was lost. A restore accepted with
``netbank audit-checkpoint --accept-restore`` is a MAC'd line that lets those pins go for
good (``Report.notes`` names it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from netbank.audit.chain import GENESIS, record_digest
from netbank.audit.checkpoints import CheckpointLine, Heads, checkpoints_read, state_after
from netbank.audit.guard import guard_problems
from netbank.audit.models import AuditChainHead, AuditRecord

_FIELDS = (
    "id",
    "chain",
    "seq",
    "prev_hash",
    "hash",
    "occurred_at",
    "event",
    "customer_id",
    "operator_id",
    "ip",
    "data",
)


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    chain: str | None = None
    seq: int | None = None
    record_id: int | None = None

    def __str__(self) -> str:
        where = []
        if self.chain is not None:
            where.append(self.chain)
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        if self.record_id is not None:
            where.append(f"record id {self.record_id}")
        place = f" [{', '.join(where)}]" if where else ""
        return f"{self.kind.upper()}{place}: {self.message}"


@dataclass
class RestorePoint:
    """Where a restored database stands against the checkpoints (``restored=True``)."""

    point: dict[str, int]  # chain -> the seq it was restored to
    after: CheckpointLine | None  # the newest checkpoint the restore point covers
    before: CheckpointLine | None  # the first one it does not (None: nothing was lost)
    lost: list[str] = field(default_factory=list)  # per chain, what the restore lost

    def describe(self) -> str:
        if self.before is None:
            return "the database holds every record the checkpoints pinned: nothing was lost"
        start = (
            f"checkpoint {self.after.source} ({self.after.at})"
            if self.after is not None
            else "the first checkpoint"
        )
        if self.after is None:
            where = f"a point before {start}, {self.before.source} ({self.before.at})"
        else:
            where = f"a point between {start} and {self.before.source} ({self.before.at})"
        return f"restored to {where}; records after it were lost in {len(self.lost)} chain(s)"


@dataclass
class Report:
    records: int = 0
    chains: int = 0
    checkpoint_lines: int = 0
    checkpoints_used: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    restore: RestorePoint | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}


def _rows() -> Iterator[dict[str, Any]]:
    yield from (
        AuditRecord.objects.order_by("chain", "seq").values(*_FIELDS).iterator(chunk_size=2000)
    )


class _Pins:
    """What valid checkpoint lines pinned: chain -> seq -> {hash: first line that pinned it}."""

    def __init__(
        self, lines: list[CheckpointLine], assumed: tuple[int, dict[str, int]] | None = None
    ) -> None:
        """``assumed``: (index, point) a restore not yet accepted, acting on the lines
        before ``lines[index]`` as an accepted restore line there would."""
        self.by_chain: dict[str, dict[int, dict[str, str]]] = defaultdict(dict)
        # Pins let go by each restore (accepted: its line's source; assumed: None).
        self.let_go: dict[str | None, int] = defaultdict(int)
        ceiling: dict[str, int] | None = None  # above it, a later restore lost the record
        by: str | None = None
        for index in reversed(range(len(lines))):
            line = lines[index]
            if assumed is not None and index == assumed[0] - 1:
                ceiling, by = _lower(ceiling, assumed[1]), None
            if not line.valid:
                continue
            for chain, (seq, digest) in line.heads.items():
                if ceiling is not None and seq > ceiling.get(chain, 0):
                    self.let_go[by] += 1
                    continue
                self.by_chain[chain].setdefault(seq, {}).setdefault(digest, line.source)
            if line.restore is not None:
                ceiling, by = _lower(ceiling, line.restore), line.source


def _lower(ceiling: dict[str, int] | None, point: dict[str, int]) -> dict[str, int]:
    """The ceiling of pins before a restore to ``point`` (and before any later restore)."""
    if ceiling is None:
        return dict(point)
    return {chain: min(seq, ceiling.get(chain, 0)) for chain, seq in point.items()}


def _seqs(heads: Heads) -> dict[str, int]:
    return {chain: seq for chain, (seq, _digest) in heads.items()}


def _pending_restore(
    lines: list[CheckpointLine], now: dict[str, int]
) -> tuple[int, dict[str, int], list[tuple[CheckpointLine, dict[str, int]]]]:
    """The restore not yet accepted: (index of the first line written after it, the
    point restored to, the lines since the last accepted restore with their states).

    The point is the state of the first line that went back (the first checkpoint after
    the restore: it pinned the restored heads), or the heads ``now`` if none did yet.
    """
    state: Heads = {}
    since: list[tuple[CheckpointLine, dict[str, int]]] = []
    found: tuple[int, dict[str, int], list[tuple[CheckpointLine, dict[str, int]]]] | None = None
    for index, line in enumerate(lines):
        if not line.valid:
            continue
        after = state_after(state, line)
        if line.restore is not None:  # accepted: what came before it is settled
            since, found = [], None
        elif found is None and any(
            after.get(chain, (0, ""))[0] < seq for chain, (seq, _digest) in state.items()
        ):
            found = (index, _seqs(after), list(since))
        since.append((line, _seqs(after)))
        state = after
    return found if found is not None else (len(lines), now, since)


def _restore_point(
    point: dict[str, int], since: list[tuple[CheckpointLine, dict[str, int]]]
) -> RestorePoint:
    def covered(state: dict[str, int]) -> bool:
        return all(point.get(chain, 0) >= seq for chain, seq in state.items())

    after: CheckpointLine | None = None
    before: CheckpointLine | None = None
    for line, state in since:
        if not covered(state):
            before = line
            break
        after = line
    newest = since[-1][1] if since else {}
    lost = [
        f"{chain}: restored to seq {point.get(chain, 0)}, checkpoints pinned seq {seq}"
        for chain, seq in sorted(newest.items())
        if point.get(chain, 0) < seq
    ]
    return RestorePoint(point=point, after=after, before=before, lost=lost)


class _ChainCheck:
    """One chain, fed its records in seq order."""

    def __init__(self, chain: str, pins: dict[int, dict[str, str]], report: Report) -> None:
        self.chain = chain
        self.pins = pins
        self.report = report
        self.expected_seq = 1
        self.prev_hash = GENESIS
        self.last_id = 0
        self.seen: dict[int, str] = {}

    def _find(self, kind: str, message: str, seq: int, rid: int) -> None:
        self.report.findings.append(Finding(kind, message, self.chain, seq, rid))

    def feed(self, row: dict[str, Any]) -> None:
        seq, rid = row["seq"], row["id"]
        if seq > self.expected_seq:
            gap = f"seq {self.expected_seq}" + (
                f"–{seq - 1}" if seq - 1 > self.expected_seq else ""
            )
            self._find("deleted", f"record(s) {gap} missing from the chain", seq, rid)
        elif row["prev_hash"] != self.prev_hash:
            self._find(
                "deleted",
                "prev_hash does not match the record before it: a record was removed or replaced",
                seq,
                rid,
            )
        digest = record_digest(
            chain=self.chain,
            seq=seq,
            prev_hash=row["prev_hash"],
            occurred_at=row["occurred_at"],
            event=row["event"],
            customer_id=row["customer_id"],
            operator_id=row["operator_id"],
            ip=row["ip"],
            data=row["data"],
        )
        if digest != row["hash"]:
            self._find("edited", "the record's fields do not give its stored hash", seq, rid)
        if rid < self.last_id:
            self._find(
                "reordered",
                f"inserted before the chain's previous record (id {self.last_id})",
                seq,
                rid,
            )
        if seq in self.pins:
            self.seen[seq] = row["hash"]
        self.last_id = max(self.last_id, rid)
        self.prev_hash = row["hash"]
        self.expected_seq = seq + 1
        self.report.records += 1

    def finish(self, head: tuple[int, str] | None) -> None:
        last_seq = self.expected_seq - 1
        _check_head(self.chain, last_seq, self.prev_hash, head, self.report)
        _check_pins(self.chain, last_seq, self.seen, self.pins, self.report)


def _check_head(
    chain: str, last_seq: int, last_hash: str, head: tuple[int, str] | None, report: Report
) -> None:
    if head is None:
        if last_seq:
            report.findings.append(Finding("head", "the chain has no head row", chain))
        return
    head_seq, head_hash = head
    if head_seq > last_seq:
        report.findings.append(
            Finding(
                "truncated",
                f"the head is at seq {head_seq} but the chain ends at seq {last_seq}",
                chain,
            )
        )
    elif head_seq < last_seq:
        report.findings.append(
            Finding(
                "head", f"the head is at seq {head_seq}, behind the chain's seq {last_seq}", chain
            )
        )
    elif head_hash != last_hash:
        report.findings.append(
            Finding("head", "the head's hash is not the last record's hash", chain, last_seq)
        )


def _check_pins(
    chain: str,
    last_seq: int,
    seen: dict[int, str],
    pins: dict[int, dict[str, str]],
    report: Report,
) -> None:
    for seq in sorted(pins):
        for digest, source in pins[seq].items():
            if seq > last_seq:
                report.findings.append(
                    Finding(
                        "truncated",
                        f"checkpoint {source} pinned seq {seq}; the chain ends at seq {last_seq}",
                        chain,
                        seq,
                    )
                )
                break
            if seen.get(seq) != digest:
                report.findings.append(
                    Finding(
                        "rewritten",
                        f"the record is not the one checkpoint {source} pinned",
                        chain,
                        seq,
                    )
                )


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of heads and records while the application keeps appending.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction (writers are not blocked).
    SQLite: the transaction itself (writers wait until the verification ends).
    Inside an enclosing transaction (tests), that transaction's view is used.
    """
    outer = connection.in_atomic_block
    with transaction.atomic():
        if not outer and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def audit_verify(*, checkpoint_dir: Path | None, restored: bool = False) -> Report:
    """Check every chain, the heads, the append-only triggers and (if given) the checkpoints.

    ``restored``: the database was restored from a backup (the operator says so); pins
    above the restore point are let go, and ``Report.restore`` says where it lies.
    """
    report = Report()
    # Checkpoints first: every line read was written before the snapshot below.
    lines: list[CheckpointLine] = []
    if checkpoint_dir is not None:
        lines = checkpoints_read(checkpoint_dir)
        for line in lines:
            if not line.valid:
                report.findings.append(Finding("checkpoint", f"{line.source}: {line.problem}"))
        report.checkpoint_lines = len(lines)
        report.checkpoints_used = sum(1 for line in lines if line.valid)
    with _snapshot():
        for problem in guard_problems(connection):
            report.findings.insert(0, Finding("guard", problem))
        heads = {
            chain: (seq, digest)
            for chain, seq, digest in AuditChainHead.objects.values_list("chain", "seq", "hash")
        }
        assumed = None
        if restored and lines:
            index, point, since = _pending_restore(lines, _seqs(heads))
            assumed = (index, point)
            report.restore = _restore_point(point, since)
        known = _Pins(lines, assumed)
        pins = known.by_chain
        for source, count in known.let_go.items():
            if source is not None:
                report.notes.append(
                    f"restore accepted in {source}: {count} pin(s) of earlier checkpoints "
                    "above the restored point no longer expected (records lost in the restore)"
                )
        done: set[str] = set()
        check: _ChainCheck | None = None
        for row in _rows():
            if check is None or row["chain"] != check.chain:
                if check is not None:
                    check.finish(heads.get(check.chain))
                check = _ChainCheck(row["chain"], pins.get(row["chain"], {}), report)
                done.add(check.chain)
            check.feed(row)
        if check is not None:
            check.finish(heads.get(check.chain))
    report.chains = len(done)
    # Chains with a head or a checkpoint but no record left at all.
    for chain in sorted((heads.keys() | pins.keys()) - done):
        _check_head(chain, 0, GENESIS, heads.get(chain), report)
        _check_pins(chain, 0, {}, pins.get(chain, {}), report)
    return report
