"""``netbank purge_passkey_challenges``: housekeeping for WebAuthn challenges.

Every login page asks for login options (conditional UI), and each makes a challenge row;
run this from cron (hourly is plenty) so they do not pile up. Only challenges expired
more than an hour ago go: a used or expired one is never accepted again anyway.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from netbank.passkeys.services import challenges_purge


class Command(BaseCommand):
    help = "Delete WebAuthn challenges that expired over an hour ago."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = challenges_purge()
        self.stdout.write(f"passkey challenges deleted: {deleted}")
