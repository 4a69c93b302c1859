"""``netbank purge_login_counters``: housekeeping for throttling and unknown-ID lockouts.

Run it from cron (hourly is plenty). It removes throttle buckets of past windows and
the failure counters of login IDs that do not exist once they have been idle for the
lockout window, so guessing random IDs cannot grow the tables without bound.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from netbank import clock
from netbank.customers.lockout import lockout_purge_idle_unknown
from netbank.customers.throttle import throttle_purge


class Command(BaseCommand):
    help = "Delete past throttle windows and idle lockout counters of unknown login IDs."

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        buckets = throttle_purge(before=now - timedelta(hours=1))
        window = int(settings.NETBANK_LOCKOUT["lock_window_seconds"])
        counters = lockout_purge_idle_unknown(before=now - timedelta(seconds=window))
        self.stdout.write(
            f"throttle buckets deleted: {buckets}; unknown-ID counters deleted: {counters}"
        )
