"""``netbank verify-audit``: recompute every audit chain and compare it with the
chain heads and the MAC'd checkpoints.

Exit status 0 when the trail is intact, 1 when anything was found (each finding is
printed: edited, deleted, reordered, truncated, rewritten, head, checkpoint, guard),
2 when the checkpoints named cannot be read.

After a restore from a backup, ``--restored`` checks the trail as restored: 0 when every
chain is an intact prefix of what the checkpoints pinned up to the restore point (it
prints between which checkpoints that point lies and what was lost), 1 when anything
else was found (tampering). Without it, findings that a restore alone explains are
followed by a RESTORE? note saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.audit.checkpoints import CheckpointKeyError, checkpoint_dir
from netbank.audit.verify import Report, audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains, heads, triggers and checkpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            default=None,
            metavar="DIR",
            help="checkpoint folder (default: NETBANK_AUDIT_CHECKPOINT_DIR)",
        )
        parser.add_argument(
            "--restored",
            action="store_true",
            help="the database was restored from a backup: tell the restore point and what "
            "was lost apart from tampering",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path | None = options["checkpoints"]
        if directory is not None and not directory.is_dir():
            raise CommandError(f"no checkpoint folder at {directory}", returncode=2)
        if directory is None:
            default = checkpoint_dir()
            directory = default if default.is_dir() else None
        restored = bool(options["restored"]) and directory is not None
        try:
            report = audit_verify(checkpoint_dir=directory, restored=restored)
            if not report.ok and directory is not None and not restored:
                as_restored = audit_verify(checkpoint_dir=directory, restored=True)
            else:
                as_restored = None
        except CheckpointKeyError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for finding in report.findings:
            self.stdout.write(str(finding))
        for note in report.notes:
            self.stdout.write(f"NOTE {note}")
        if restored:
            self._restored(report)
        elif as_restored is not None and as_restored.ok and as_restored.restore is not None:
            self.stdout.write(
                "RESTORE? every finding above is what a restore from a backup leaves: "
                f"{as_restored.restore.describe()}. If the database was restored, run "
                "`netbank verify-audit --restored`, then `netbank audit-checkpoint "
                "--accept-restore`. If it was not, the trail was cut short."
            )
        if directory is None or report.checkpoints_used == 0:
            self.stderr.write(
                "WARNING no valid checkpoint: a chain cut short at its end, or rebuilt, "
                "cannot be detected. Run `netbank audit-checkpoint` periodically."
            )
        summary = (
            f"{report.records} records in {report.chains} chains; "
            f"{report.checkpoints_used} of {report.checkpoint_lines} checkpoint lines used"
        )
        if not report.ok:
            what = "NOT intact" if not restored else "NOT a restore alone: tampering"
            raise CommandError(
                f"audit trail {what}: {len(report.findings)} finding(s). {summary}",
                returncode=1,
            )
        if restored:
            summary += "; intact up to the restore point"
        self.stdout.write(f"audit trail intact: {summary}")

    def _restored(self, report: Report) -> None:
        restore = report.restore
        if restore is None:
            return
        if not report.ok:
            self.stdout.write(
                "TAMPERING: the findings above are not what a restore leaves (a restored "
                "chain is an intact prefix of what the checkpoints pinned)."
            )
            return
        self.stdout.write(f"RESTORED: {restore.describe()}.")
        for line in restore.lost:
            self.stdout.write(f"LOST {line}")
        if restore.lost:
            self.stdout.write(
                "Next: `netbank audit-checkpoint --accept-restore` records the restore "
                "point, so later checks no longer expect what was lost."
            )
