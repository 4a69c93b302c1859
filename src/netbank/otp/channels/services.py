"""The bank's other channels (telephone banking, branch systems, …) and their OTP checks.

Each channel has its own API key: 256 random bits shown once at creation, stored only
as SHA-256, revocable. A channel verifies a customer's OTP through the same
``otp_verify`` as the web (same window, replay guard and drift, same OTP lockout
counter, so five wrong codes on the telephone lock the web login's OTP too), with the
channel's name as the channel in the audit record of each check.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction

from netbank import clock
from netbank.audit.services import record, record_on
from netbank.customers import throttle
from netbank.customers.models import Customer
from netbank.ops import metrics
from netbank.otp.models import ChannelApiKey, Token
from netbank.otp.tokens import selectors
from netbank.otp.verification import Result, lock_for_check, otp_verify_locked

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

KEY_PREFIX = "nbk_"
KEY_BYTES = 32
# Lower-case letters, digits, '-' and '_', starting with a letter (it names a channel
# in the audit trail and in rate limits).
_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{1,31}")
# Channel names the bank's own code uses; a key must not pass for one of them.
RESERVED_NAMES = frozenset({"web", "direct", "app", "api", "helpdesk"})
_KEY_RE = re.compile(r"nbk_[A-Za-z0-9_-]{43}")


class ChannelKeyError(Exception):
    """A key request that cannot be carried out; the message says why (no secrets)."""


@dataclass(frozen=True, repr=False)
class CreatedKey:
    """A new key: ``key`` is shown once and never stored."""

    row: ChannelApiKey
    key: str

    def __repr__(self) -> str:
        return f"CreatedKey(name={self.row.name!r}, prefix={self.row.key_prefix!r})"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ChannelKeyError(
            "a channel name is 2-32 lower-case letters, digits, '-' or '_', starting with a letter"
        )
    if name in RESERVED_NAMES:
        raise ChannelKeyError(f"{name!r} is reserved for the bank's own channels")
    return name


def channel_key_create(*, name: str, operator_id: int | None = None) -> CreatedKey:
    """A new key for channel ``name``. Refused while the channel has an active key
    (revoke it first: a channel never holds two keys at once)."""
    check_name(name)
    key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    try:
        with transaction.atomic():
            if ChannelApiKey.objects.filter(name=name, revoked_at__isnull=True).exists():
                raise ChannelKeyError(f"channel {name!r} already has an active key")
            row = ChannelApiKey.objects.create(
                name=name,
                key_hash=key_hash(key),
                key_prefix=key[: len(KEY_PREFIX) + 6],
                created_at=clock.now(),
            )
            record(
                "channel_key.created",
                operator_id=operator_id,
                channel=name,
                key_id=row.pk,
                prefix=row.key_prefix,
            )
    except IntegrityError:
        # Another process created an active key for this name at the same moment.
        raise ChannelKeyError(f"channel {name!r} already has an active key") from None
    return CreatedKey(row=row, key=key)


def channel_key_revoke(*, name: str, operator_id: int | None = None) -> ChannelApiKey:
    """Revoke the active key of ``name``; its calls are refused from the next request."""
    with transaction.atomic():
        row = (
            ChannelApiKey.objects.select_for_update()
            .filter(name=name, revoked_at__isnull=True)
            .first()
        )
        if row is None:
            raise ChannelKeyError(f"channel {name!r} has no active key")
        row.revoked_at = clock.now()
        row.save(update_fields=["revoked_at"])
        record(
            "channel_key.revoked",
            operator_id=operator_id,
            channel=name,
            key_id=row.pk,
            prefix=row.key_prefix,
        )
    return row


def channel_keys() -> list[ChannelApiKey]:
    return list(ChannelApiKey.objects.order_by("name", "created_at"))


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel whose active key was presented."""

    key_id: int
    name: str


# Every API call runs these, so they are plain statements (docs/performance.md).
_AUTHENTICATE_SQL = (
    f'SELECT "id", "name" FROM "{ChannelApiKey._meta.db_table}" '  # noqa: S608 - fixed names
    'WHERE "key_hash" = %s AND "revoked_at" IS NULL'
)
# Which token a channel's check is for: by ユーザID, or the customer's token in use by
# ログインID (during a re-issue the newer one is the one to check).
_BY_USER_ID = "WHERE t.user_id = %s"
_BY_LOGIN_ID = f"WHERE c.login_id = %s AND t.state = %s {selectors.IN_USE_ORDER_SQL} LIMIT 1"


def channel_authenticate(key: str) -> Channel | None:
    """The channel whose active key was presented, or None. One indexed lookup by hash:
    the key has 256 bits, so the hash lookup's timing tells an attacker nothing."""
    if not _KEY_RE.fullmatch(key):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_AUTHENTICATE_SQL, [key_hash(key)])
        row = cursor.fetchone()
    return None if row is None else Channel(int(row[0]), row[1])


# The key's lookup and the count on its channel's rate-limit bucket in one round trip
# (PostgreSQL runs data-modifying WITH clauses; SQLite does not).
_AUTHENTICATE_AND_COUNT_SQL = (
    f"WITH channel AS ({_AUTHENTICATE_SQL}), "  # noqa: S608 - fixed names
    f"counted AS ({throttle.count_sql('%s || (SELECT name FROM channel)')}) "
    "SELECT channel.id, channel.name, (SELECT count FROM counted) FROM channel"
)


def _cursor(cursor: CursorWrapper | None) -> AbstractContextManager[CursorWrapper]:
    """The caller's cursor (a request that makes several calls reuses one: a cursor's
    first statement costs more than its later ones), else a new one."""
    return nullcontext(cursor) if cursor is not None else connection.cursor()


def channel_authenticate_and_count(
    key: str,
    *,
    scope: str,
    limit: int,
    window_seconds: int,
    cursor: CursorWrapper | None = None,
) -> tuple[Channel, throttle.ThrottleResult] | None:
    """``channel_authenticate``, and this request counted on the channel's rate-limit
    bucket (``throttle`` scope ``scope``, keyed by the channel's name). A wrong key
    counts nothing."""
    if not _KEY_RE.fullmatch(key):
        return None
    if connection.vendor != "postgresql":
        channel = channel_authenticate(key)
        if channel is None:
            return None
        counted = throttle.throttle_hit(
            scope=scope, key=channel.name, limit=limit, window_seconds=window_seconds
        )
        return channel, counted
    window = throttle.throttle_window(window_seconds)
    with _cursor(cursor) as cur:
        cur.execute(
            _AUTHENTICATE_AND_COUNT_SQL,
            # The bucket key is bucket_key(scope, name); names are far below its length cap.
            [
                key_hash(key),
                throttle.bucket_key(scope, ""),
                connection.ops.adapt_datetimefield_value(window.start),
            ],
        )
        row = cur.fetchone()
    if row is None:
        return None
    channel = Channel(int(row[0]), row[1])
    counted = throttle.throttle_counted(
        scope=scope, key=channel.name, count=row[2], limit=limit, window=window
    )
    return channel, counted


def channel_verify(
    *,
    channel: str,
    code: str,
    user_id: str | None = None,
    login_id: str | None = None,
    ip: str | None = None,
    cursor: CursorWrapper | None = None,
) -> Result:
    """Verify ``code`` for the token named by ユーザID, or for the customer's token in
    use named by ログインID. Every call leaves one audit record: ``otp_verify``'s, or
    ``channel.verify_refused`` when there is no usable token to check."""
    with metrics.otp_verification_timer(), transaction.atomic(), _cursor(cursor) as cursor:
        # Found and locked in one statement; otp_verify_locked then runs the same
        # sequence as otp_verify.
        if user_id is not None:
            found = lock_for_check(cursor, _BY_USER_ID, [user_id])
        else:
            found = lock_for_check(cursor, _BY_LOGIN_ID, [login_id, Token.State.IN_USE])
        reason = ""
        if found is None:
            reason = "unknown"
        elif found.token.state != Token.State.IN_USE:
            reason = f"token_{found.token.state}"
        elif found.customer_status != Customer.Status.ACTIVE:
            reason = "customer_suspended"
        if found is None or reason:
            record_on(
                cursor,
                "channel.verify_refused",
                customer_id=found.token.customer_id if found is not None else None,
                ip=ip,
                channel=channel,
                reason=reason,
            )
            return Result.REJECTED
        outcome = otp_verify_locked(
            cursor, found.token, found.lockout, code=code, channel=channel, ip=ip
        )
        return outcome.result
