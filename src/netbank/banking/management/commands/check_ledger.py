"""``netbank check-ledger``: prove the ledger's invariants; exit status 1 if one fails."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from netbank.banking.selectors import ledger_check


class Command(BaseCommand):
    help = (
        "Check that every journal entry sums to zero, every balance equals its postings, "
        "no customer account is overdrawn and all balances sum to zero."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_check()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"ledger check failed: {len(problems)} problem(s)")
        self.stdout.write("ledger OK")
