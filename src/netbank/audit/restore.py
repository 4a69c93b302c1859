"""Going on after the database was restored from a backup to a point before the newest
checkpoint (docs/operations.md "Backups and restore").

``restore_accept`` checks the trail as restored (``audit_verify(restored=True)``: every
chain an intact prefix of what the checkpoints pinned, up to the restore point) and only
then appends a MAC'd checkpoint line with the restore point, after which the records the
restore lost are no longer expected. Anything else found refuses: that is tampering, or
needs a person to look before the evidence is written over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from netbank.audit.checkpoints import WrittenCheckpoint, checkpoint_dir, checkpoint_write
from netbank.audit.verify import Report, RestorePoint, audit_verify


class RestoreRefusedError(Exception):
    """The trail has findings a restore does not explain; nothing was written."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{len(report.findings)} finding(s) a restore does not explain")
        self.report = report


@dataclass
class AcceptedRestore:
    restore: RestorePoint
    written: WrittenCheckpoint


def restore_accept(*, directory: Path | None = None) -> AcceptedRestore:
    directory = checkpoint_dir() if directory is None else directory
    report = audit_verify(checkpoint_dir=directory if directory.is_dir() else None, restored=True)
    if not report.ok:
        raise RestoreRefusedError(report)
    point = report.restore.point if report.restore is not None else {}
    written = checkpoint_write(directory=directory, restore=point)
    restore = report.restore or RestorePoint(point=point, after=None, before=None)
    return AcceptedRestore(restore=restore, written=written)
