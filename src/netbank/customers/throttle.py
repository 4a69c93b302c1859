"""Per-client throttling of credential checks, run before any password hash.

A fixed-window counter per key in the database (ThrottleBucket), so every app process
and node shares it. The increment is a single ``UPDATE … SET count = count + 1`` on the
bucket row (created on first use; a concurrent creator is caught by the unique
constraint and retried as an update), so no two processes can lose a count.
On PostgreSQL the table is UNLOGGED (migration 0003): a count commits without a WAL
flush, and a crash or fail-over only restarts the current minute's counts.

The limit is ``settings.NETBANK_THROTTLE["login_per_ip_per_minute"]``. Clients are keyed
by IPv4 address, or by IPv6 /64 network (one subscriber line usually gets a whole /64,
so keying single IPv6 addresses would be no limit at all). The address is
``REMOTE_ADDR`` (``netbank.web.client_address``): behind a reverse proxy, the WSGI entry
point sets it from the proxy's header for the proxies in ``NETBANK_TRUSTED_PROXIES``, never
the application from a header a client sends.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from netbank import clock
from netbank.customers.models import ThrottleBucket

LOGIN = "login"
LOGIN_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class ThrottleResult:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window ends

    @property
    def first_refusal(self) -> bool:
        """True only for the first refused request of a window (audit it once)."""
        return self.count == self.limit + 1


def client_key(ip: str | None) -> str:
    """The throttling key of a client address: the IPv4 address or the IPv6 /64."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "invalid"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True, slots=True)
class ThrottleWindow:
    """The fixed window a request falls in."""

    start: datetime
    retry_after: int  # seconds until it ends


def throttle_window(window_seconds: int) -> ThrottleWindow:
    now = clock.now()
    seconds = int(now.timestamp()) // window_seconds * window_seconds
    start = datetime.fromtimestamp(seconds, tz=UTC)
    retry_after = max(1, int((start + timedelta(seconds=window_seconds) - now).total_seconds()))
    return ThrottleWindow(start, retry_after)


def bucket_key(scope: str, key: str) -> str:
    return f"{scope}:{key}"[:120]


def count_sql(key_sql: str = "%s") -> str:
    """The one statement that counts on an existing bucket: ``key_sql`` is the bucket key
    (a parameter, or an SQL expression where a caller computes it in the same statement),
    then the window's start is a parameter. Returns the new count; no row if the window
    has no bucket yet."""
    return (
        f'UPDATE "{ThrottleBucket._meta.db_table}" SET "count" = "count" + 1'  # noqa: S608 - table name from the model
        f' WHERE "key" = {key_sql} AND "window_start" = %s RETURNING "count"'
    )


def throttle_hit(*, scope: str, key: str, limit: int, window_seconds: int) -> ThrottleResult:
    """Count one request for ``scope``/``key`` and say whether it is within ``limit``."""
    window = throttle_window(window_seconds)
    # The common case, an existing bucket, is one statement: every request of a channel
    # counts on the same row, so holding it for a whole transaction queues them all.
    with connection.cursor() as cursor:
        cursor.execute(
            count_sql(),
            [bucket_key(scope, key), connection.ops.adapt_datetimefield_value(window.start)],
        )
        row = cursor.fetchone()
    return throttle_counted(
        scope=scope, key=key, count=None if row is None else row[0], limit=limit, window=window
    )


def throttle_counted(
    *, scope: str, key: str, count: int | None, limit: int, window: ThrottleWindow
) -> ThrottleResult:
    """The result of ``count_sql``'s statement: ``count`` as it returned, or None when the
    window had no bucket yet, which is then made here (and this request counted on it)."""
    if count is not None:
        return ThrottleResult(count <= limit, count, limit, window.retry_after)
    name = bucket_key(scope, key)
    with transaction.atomic():
        rows = ThrottleBucket.objects.filter(key=name, window_start=window.start)
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    ThrottleBucket.objects.create(key=name, window_start=window.start, count=1)
            except IntegrityError:
                # Another process created the bucket first: count on its row.
                rows.update(count=F("count") + 1)
            else:
                # A new window began for this key: its old buckets are no longer needed.
                ThrottleBucket.objects.filter(key=name, window_start__lt=window.start).delete()
        count = rows.values_list("count", flat=True).get()
    return ThrottleResult(count <= limit, count, limit, window.retry_after)


def login_throttle_hit(*, ip: str | None) -> ThrottleResult:
    """One login attempt (web or Direct login) from ``ip``."""
    return throttle_hit(
        scope=LOGIN,
        key=client_key(ip),
        limit=int(settings.NETBANK_THROTTLE["login_per_ip_per_minute"]),
        window_seconds=LOGIN_WINDOW_SECONDS,
    )


def throttle_purge(*, before: datetime) -> int:
    """Delete buckets whose window started before ``before`` (housekeeping)."""
    deleted, _ = ThrottleBucket.objects.filter(window_start__lt=before).delete()
    return deleted
