"""``netbank purge-otp-sessions``: housekeeping for activation and Directログイン.

Run it from cron (hourly is plenty). It deletes the round-one rows of activations that
can no longer finish (expired, or their token has left the issued and activated states)
and Direct login URLs that expired more than a day ago. Neither holds anything the
audit trail does not already record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from netbank import clock
from netbank.otp.activation.services import activation_sessions_purge
from netbank.otp.direct_login.services import direct_login_tickets_purge

# Expired Direct login URLs are kept this long, so a late click is still refused as
# "expired" (with its customer in the audit trail) rather than as an unknown URL.
TICKET_RETENTION = timedelta(days=1)


class Command(BaseCommand):
    help = "Delete finished activation sessions and Direct login URLs expired over a day ago."

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        sessions = activation_sessions_purge(before=now)
        tickets = direct_login_tickets_purge(before=now - TICKET_RETENTION)
        self.stdout.write(
            f"activation sessions deleted: {sessions}; Direct login URLs deleted: {tickets}"
        )
