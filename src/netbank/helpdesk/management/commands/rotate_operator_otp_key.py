"""``netbank rotate-operator-otp-key``: re-seal operator OTP seeds under the current
key-encryption key (the first in NETBANK_OTP_KEYS), after ``rotate-otp-key``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from netbank.helpdesk.operators import operator_seeds_reseal
from netbank.otp.crypto import SealError


class Command(BaseCommand):
    help = "Re-seal every operator's OTP seed under the current key-encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = operator_seeds_reseal()
        except SealError as exc:
            raise CommandError(f"an operator seed does not open: {exc}") from exc
        self.stdout.write(f"Re-sealed {done} operator seed(s).")
