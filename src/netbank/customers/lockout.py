"""Lockouts, one counter per credential kind and subject (DESIGN.md "Security policy").

5 consecutive failures lock for 30 minutes; each further lock doubles (1 h, 2 h, …);
the third lock within 24 hours is permanent until the helpdesk unlocks it. Every lock
mails the customer. Unknown login IDs get counters of their own (by a digest of the
string), so the lock behaviour reveals nothing about whether an ID exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from netbank import clock
from netbank.audit.services import record
from netbank.customers.models import Customer, FailureCounter
from netbank.ops import metrics

# Counter kinds (names of credentials, not credentials).
LOGIN_PASSWORD = "login_password"  # noqa: S105
OTP = "otp"
TRANSACTION_PASSWORD = "transaction_password"  # noqa: S105
SECRET_ANSWER = "secret_answer"  # noqa: S105
SIGNING_CODE = "signing_code"
KINDS = frozenset({LOGIN_PASSWORD, OTP, TRANSACTION_PASSWORD, SECRET_ANSWER, SIGNING_CODE})


@dataclass(frozen=True)
class LockStatus:
    locked: bool
    permanent: bool = False
    until: datetime | None = None
    just_locked: bool = False
    # Consecutive failures counted so far: a success with none to reset can skip the
    # reset's write.
    failures: int = 0


def subject_for_customer(customer: Customer) -> str:
    return subject_for_customer_id(customer.pk)


def subject_for_customer_id(customer_id: int) -> str:
    return f"customer:{customer_id}"


def customer_subject_sql(customer_id_column: str) -> str:
    """``subject_for_customer_id`` as an SQL expression of a customer id column, to join a
    customer's counter (the same text on PostgreSQL and SQLite)."""
    return f"'customer:' || CAST({customer_id_column} AS TEXT)"


def subject_for_login_id(login_id: str) -> str:
    digest = hashlib.sha256(login_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"login_id:{digest}"


def _status(counter: FailureCounter | None, now: datetime) -> LockStatus:
    if counter is None:
        return LockStatus(False)
    return status_of_row(
        (counter.permanently_locked, counter.locked_until, counter.consecutive_failures), now
    )


# The columns status_of_row reads, in its order (with a table alias where joined).
STATUS_COLUMNS = ("permanently_locked", "locked_until", "consecutive_failures")
_COUNTER_TABLE = FailureCounter._meta.db_table
_STATUS_SQL = (
    f"SELECT {', '.join(STATUS_COLUMNS)} "  # noqa: S608 - fixed names
    f'FROM "{_COUNTER_TABLE}" WHERE "kind" = %s AND "subject" = %s'
)


def _db_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp column read by plain SQL: SQLite gives it naive (or as text), in UTC."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def lockout_status(*, kind: str, subject: str) -> LockStatus:
    with connection.cursor() as cursor:
        cursor.execute(_STATUS_SQL, [kind, subject])
        row = cursor.fetchone()
    return LockStatus(False) if row is None else status_of_row(row)


def status_of_row(row: tuple[Any, ...], now: datetime | None = None) -> LockStatus:
    """The status of a counter's ``STATUS_COLUMNS`` (as plain SQL reads them) at ``now``."""
    permanent, until, failures = bool(row[0]), _db_datetime(row[1]), int(row[2])
    if permanent:
        return LockStatus(True, permanent=True, failures=failures)
    if until is not None and until > (now or clock.now()):
        return LockStatus(True, until=until, failures=failures)
    return LockStatus(False, failures=failures)


def lockout_acquire(*, kind: str, subject: str) -> LockStatus:
    """Lock the counter row for the rest of the caller's transaction and return its status.

    Call inside ``transaction.atomic()`` before checking a credential: concurrent
    attempts on one subject then queue behind each other, so a burst of parallel
    guesses cannot all be checked before the fifth failure locks the subject.
    """
    now = clock.now()
    return _status(_locked_counter(kind, subject), now)


def lockout_counter_ensure(*, kind: str, subject: str) -> None:
    """Make the counter row if there is none yet (a check that locks it needs it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown lockout kind {kind!r}")
    FailureCounter.objects.get_or_create(
        kind=kind, subject=subject, defaults={"updated_at": clock.now()}
    )


def _locked_counter(kind: str, subject: str) -> FailureCounter:
    """The counter row, created if needed and locked for this transaction."""
    lockout_counter_ensure(kind=kind, subject=subject)
    return FailureCounter.objects.select_for_update().get(kind=kind, subject=subject)


def lockout_register_failure(
    *, kind: str, subject: str, customer: Customer | None = None, ip: str | None = None
) -> LockStatus:
    """Count one failure; lock when the limit is reached. Returns the new status."""
    policy = settings.NETBANK_LOCKOUT
    now = clock.now()
    with transaction.atomic():
        counter = _locked_counter(kind, subject)
        current = _status(counter, now)
        if current.locked:
            return current
        counter.consecutive_failures += 1
        counter.updated_at = now
        just_locked = False
        if counter.consecutive_failures >= policy["max_failures"]:
            window_start = now - timedelta(seconds=policy["lock_window_seconds"])
            recent = [t for t in counter.recent_locks if datetime.fromisoformat(t) > window_start]
            recent.append(now.isoformat())
            counter.recent_locks = recent
            counter.lock_count += 1
            counter.consecutive_failures = 0
            just_locked = True
            if len(recent) >= policy["permanent_after_locks"]:
                counter.permanently_locked = True
                counter.locked_until = None
            else:
                seconds = policy["first_lock_seconds"] * 2 ** (len(recent) - 1)
                counter.locked_until = now + timedelta(seconds=seconds)
        counter.save()
        customer_id = customer.pk if customer is not None else None
        if just_locked:
            metrics.lockout(kind)
            record(
                "lockout.locked",
                customer_id=customer_id,
                ip=ip,
                kind=kind,
                permanent=counter.permanently_locked,
                until=counter.locked_until.isoformat() if counter.locked_until else None,
            )
            if customer is not None:
                _mail_lock_notice(customer, kind, counter)
        else:
            record("lockout.failure", customer_id=customer_id, ip=ip, kind=kind)
        status = _status(counter, now)
    return LockStatus(status.locked, status.permanent, status.until, just_locked)


def lockout_register_success(*, kind: str, subject: str) -> None:
    """A correct credential resets the consecutive count (not the lock history)."""
    FailureCounter.objects.filter(kind=kind, subject=subject, consecutive_failures__gt=0).update(
        consecutive_failures=0, updated_at=clock.now()
    )


def lockout_clear(*, kind: str, subject: str, operator_id: int | None = None) -> None:
    """Helpdesk unlock: lift the lock and forget the history."""
    with transaction.atomic():
        FailureCounter.objects.filter(kind=kind, subject=subject).update(
            consecutive_failures=0,
            locked_until=None,
            permanently_locked=False,
            recent_locks=[],
            updated_at=clock.now(),
        )
        customer_id = int(subject.split(":", 1)[1]) if subject.startswith("customer:") else None
        record("lockout.cleared", customer_id=customer_id, operator_id=operator_id, kind=kind)


def _mail_lock_notice(customer: Customer, kind: str, counter: FailureCounter) -> None:
    # Imported here: the mail text belongs to the notices module, which renders templates.
    from netbank.customers.notices import lock_notice_enqueue

    lock_notice_enqueue(customer=customer, kind=kind, counter=counter)


def lockout_purge_idle_unknown(*, before: datetime) -> int:
    """Delete counters of unknown login IDs untouched since ``before`` (housekeeping).

    Only counters that are not locked: a permanent lock on an unknown ID is kept, as a
    real customer's would be, so even a month later the two look the same.
    """
    now = clock.now()
    deleted, _ = (
        FailureCounter.objects.filter(
            subject__startswith="login_id:", updated_at__lt=before, permanently_locked=False
        )
        .exclude(locked_until__gt=now)
        .delete()
    )
    return deleted


class CustomerLockout:
    """A customer's counter of one kind, as the credential core counts on it
    (``netbank.credentials.FailureCounter``).

    ``status`` is what the check read (with the counter's row locked, or not). A reset
    is skipped when that read saw no failures to reset: a failure committed since then
    simply counts after this success. Give ``failures_known=False`` to reset always.
    ``customer`` is loaded only when a failure needs it (the lock mail), if not given.
    """

    __slots__ = ("_customer", "customer_id", "failures_known", "ip", "kind", "status", "subject")

    def __init__(
        self,
        *,
        kind: str,
        customer_id: int,
        status: LockStatus,
        customer: Customer | None = None,
        ip: str | None = None,
        failures_known: bool = True,
    ) -> None:
        self.kind = kind
        self.customer_id = customer_id
        self.subject = subject_for_customer_id(customer_id)
        self.status = status
        self._customer = customer
        self.ip = ip
        self.failures_known = failures_known

    @property
    def locked(self) -> bool:
        return self.status.locked

    def reset(self) -> None:
        if self.status.failures or not self.failures_known:
            lockout_register_success(kind=self.kind, subject=self.subject)

    def count_failure(self) -> bool:
        if self._customer is None:
            self._customer = Customer.objects.get(pk=self.customer_id)
        failed = lockout_register_failure(
            kind=self.kind, subject=self.subject, customer=self._customer, ip=self.ip
        )
        return failed.locked
