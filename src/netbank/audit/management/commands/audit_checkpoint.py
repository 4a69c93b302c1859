"""``netbank audit-checkpoint``: append one MAC'd line with every chain head.

Run it periodically (cron, a systemd timer) and keep the folder off the database
server; docs/audit.md has the schedule and the key. Exit status 1 when a chain's head
is behind what an earlier line pinned (the trail was cut short): run verify-audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.audit.checkpoints import CheckpointKeyError, checkpoint_write


class Command(BaseCommand):
    help = "Append a MAC'd checkpoint of the audit chain heads to the checkpoint folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="checkpoint folder (default: NETBANK_AUDIT_CHECKPOINT_DIR)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            written = checkpoint_write(directory=options["dir"])
        except CheckpointKeyError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot write the checkpoint: {exc}") from None
        scope = "all" if written.full else "changed"
        self.stdout.write(
            f"checkpoint {written.at.isoformat()} → {written.path}: "
            f"{written.chains} {scope} of {written.total_chains} chains"
        )
        if written.behind:
            for line in written.behind:
                self.stderr.write(f"BEHIND {line}")
            raise CommandError(
                f"{len(written.behind)} chain(s) are behind an earlier checkpoint: the audit "
                "trail was cut short. Run `netbank verify-audit`."
            )
