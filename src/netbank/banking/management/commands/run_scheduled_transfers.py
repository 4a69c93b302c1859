"""``netbank run-scheduled-transfers``: execute the 振込予約 due today, each exactly once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from netbank.banking.transfers import scheduled_transfers_run


class Command(BaseCommand):
    help = (
        "Execute every 振込予約 due on or before today (in Japan), re-checking balance, "
        "limit and the customer's status. Catches up after an outage; safe to run on "
        "several nodes at once (each transfer runs exactly once)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = scheduled_transfers_run()
        self.stdout.write(
            f"scheduled transfers: executed {summary.executed}, failed {summary.failed}, "
            f"skipped {summary.skipped}"
        )
