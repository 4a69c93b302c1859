"""``netbank verify-audit``: recompute every audit chain and compare it with the
chain heads and the MAC'd checkpoints.

Exit status 0 when the trail is intact, 1 when anything was found (each finding is
printed: edited, deleted, reordered, truncated, rewritten, head, checkpoint, guard),
2 when the checkpoints named cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.audit.checkpoints import CheckpointKeyError, checkpoint_dir
from netbank.audit.verify import audit_verify


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

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path | None = options["checkpoints"]
        if directory is not None and not directory.is_dir():
            raise CommandError(f"no checkpoint folder at {directory}", returncode=2)
        if directory is None:
            default = checkpoint_dir()
            directory = default if default.is_dir() else None
        try:
            report = audit_verify(checkpoint_dir=directory)
        except CheckpointKeyError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for finding in report.findings:
            self.stdout.write(str(finding))
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
            raise CommandError(
                f"audit trail NOT intact: {len(report.findings)} finding(s). {summary}",
                returncode=1,
            )
        self.stdout.write(f"audit trail intact: {summary}")
