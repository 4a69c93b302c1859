"""``netbank rotate-operator-otp-key``: re-seal operator OTP seeds under the current
key-encryption key (the first in NETBANK_OTP_KEYS), after ``rotate-otp-key``.

The same routine as ``rotate-otp-key`` (``otp.crypto.sealed_column_rotate``) on the
operators' table alone; ``rotate-otp-key --all`` does both in one run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from netbank.helpdesk.operators import operator_seeds_reseal


class Command(BaseCommand):
    help = "Re-seal every operator's OTP seed under the current key-encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        done, broken = operator_seeds_reseal()
        if broken:
            raise CommandError(
                f"{broken} operator seed(s) do not open with any configured key; "
                f"they were left unchanged ({done} re-sealed)"
            )
        self.stdout.write(f"Re-sealed {done} operator seed(s).")
