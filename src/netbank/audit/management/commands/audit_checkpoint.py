"""``netbank audit-checkpoint``: append one MAC'd line with every chain head.

Run it periodically (cron, a systemd timer) and keep the folder off the database
server; docs/audit.md has the schedule and the key. Exit status 1 when a chain's head
is behind what an earlier line pinned (the trail was cut short, or the database was
restored from a backup): run verify-audit. The next run goes on from the heads as they
are, so it does not fail again for the same cut.

``--accept-restore`` after a restore from a backup: checks the trail as restored
(verify-audit --restored) and writes a line with the restore point, so verify-audit no
longer expects the records the restore lost; refused (exit 1, nothing written) when the
trail has findings a restore does not explain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.audit.checkpoints import CheckpointKeyError, checkpoint_write
from netbank.audit.restore import RestoreRefusedError, restore_accept


class Command(BaseCommand):
    help = "Append a MAC'd checkpoint of the audit chain heads to the checkpoint folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="checkpoint folder (default: NETBANK_AUDIT_CHECKPOINT_DIR)",
        )
        parser.add_argument(
            "--accept-restore",
            action="store_true",
            help="the database was restored from a backup: record the restore point",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accept_restore"]:
            self._accept_restore(options["dir"])
            return
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
                "trail was cut short, or the database was restored from a backup. Run "
                "`netbank verify-audit` (after a restore: `netbank verify-audit --restored`, "
                "then `netbank audit-checkpoint --accept-restore`)."
            )

    def _accept_restore(self, directory: Path | None) -> None:
        try:
            accepted = restore_accept(directory=directory)
        except CheckpointKeyError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot write the checkpoint: {exc}") from None
        except RestoreRefusedError as exc:
            for finding in exc.report.findings:
                self.stdout.write(str(finding))
            raise CommandError(
                f"restore NOT accepted, nothing written: {len(exc.report.findings)} "
                "finding(s) that a restore does not explain (tampering). Run "
                "`netbank verify-audit --restored`."
            ) from None
        for line in accepted.restore.lost:
            self.stdout.write(f"LOST {line}")
        self.stdout.write(
            f"restore accepted: {accepted.restore.describe()}. Checkpoint "
            f"{accepted.written.at.isoformat()} → {accepted.written.path}: all "
            f"{accepted.written.total_chains} chains and the restore point"
        )
