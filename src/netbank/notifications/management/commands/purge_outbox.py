"""``netbank purge-outbox``: delete sent and failed mail past the retention period.

``netbank worker`` runs it daily. Queued and uncertain mail is never deleted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from netbank import clock
from netbank.notifications.services import outbox_purge


class Command(BaseCommand):
    help = (
        "Delete sent and failed outbox mail (with its body) older than "
        "NETBANK_OUTBOX_RETENTION_DAYS; queued and uncertain mail stays."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        days = int(settings.NETBANK_OUTBOX_RETENTION_DAYS)
        deleted = outbox_purge(before=clock.now() - timedelta(days=days))
        self.stdout.write(f"outbox mails deleted: {deleted} (older than {days} days)")
