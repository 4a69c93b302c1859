"""Reads for the console: finding a customer, and everything the customer page shows."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace
from django.utils import timezone

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.kana import to_katakana
from netbank.banking.models import Account, Transfer
from netbank.customers import lockout
from netbank.customers import session as customer_session
from netbank.customers.models import Customer, FailureCounter
from netbank.helpdesk.conf import console_int
from netbank.helpdesk.models import IdentityCheck, LiftRequest
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from netbank.passkeys.models import Passkey

# Events the "recent logins" table shows.
LOGIN_EVENTS = (
    "login.succeeded",
    "login.new_device",
    "login.failed",
    "login.refused_locked",
    "login.refused_suspended",
    "login.throttled",
    "otp.rejected",
    "otp.locked",
    "direct_login.failed",
    "direct_login.opened",
)

_KANA_SPACES = re.compile(r"[\s\u3000]+")
_ACCOUNT_RE = re.compile(r"(?:([0-9]{3})-?)?([0-9]{7})")


def normalize_query(raw: str) -> str:
    """NFKC (full-width digits and letters, half-width kana become one form), trimmed."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def _no_spaces(field: str) -> Replace:
    return Replace(Replace(field, Value(" "), Value("")), Value("\u3000"), Value(""))


@dataclass(frozen=True)
class SearchResult:
    customers: Sequence[Customer]
    truncated: bool
    matched_by: str


def customer_search(query: str) -> SearchResult:
    """Find customers by ログインID, name (kanji), kana, registered email, or account
    number (7 digits, or branch + number as ``123-4567890`` / 10 digits)."""
    text = normalize_query(query)
    limit = console_int("search_results")
    if not text:
        return SearchResult([], False, "")
    condition = Q(login_id=text)
    matched_by = "login_id"
    account = _ACCOUNT_RE.fullmatch(text)
    if "@" in text:
        condition |= Q(email__iexact=text)
        matched_by = "email"
    elif account is not None:
        branch, number = account.groups()
        accounts = Account.objects.filter(kind=Account.Kind.CUSTOMER, account_number=number)
        if branch:
            accounts = accounts.filter(branch_code=branch)
        condition |= Q(pk__in=accounts.values("customer_id"))
        matched_by = "account"
    else:
        compact = _KANA_SPACES.sub("", text)
        # ひらがな → カタカナ, so a kana search matches however the operator typed it.
        kana = to_katakana(compact)
        condition |= Q(kanji_compact__contains=compact) | Q(kana_compact__contains=kana)
        matched_by = "name"
    rows = list(
        Customer.objects.annotate(
            kanji_compact=_no_spaces("name_kanji"), kana_compact=_no_spaces("name_kana")
        )
        .filter(condition)
        .order_by("login_id")[: limit + 1]
    )
    return SearchResult(rows[:limit], len(rows) > limit, matched_by)


@dataclass(frozen=True)
class LockRow:
    counter: FailureCounter
    locked: bool
    permanent: bool
    until: datetime | None
    # Consecutive failures as the operator reads them: the counter starts again at 0
    # when it locks, so a locked row shows the failures that locked it.
    failures: int


def customer_lockouts(customer: Customer) -> list[LockRow]:
    now = clock.now()
    max_failures = int(settings.NETBANK_LOCKOUT["max_failures"])
    rows = []
    for counter in FailureCounter.objects.filter(
        subject=lockout.subject_for_customer(customer)
    ).order_by("kind"):
        permanent = counter.permanently_locked
        timed = counter.locked_until is not None and counter.locked_until > now
        rows.append(
            LockRow(
                counter,
                locked=permanent or timed,
                permanent=permanent,
                until=counter.locked_until if timed else None,
                failures=max_failures if permanent or timed else counter.consecutive_failures,
            )
        )
    return rows


@dataclass(frozen=True)
class SessionRow:
    # A digest of the session key: enough to tell sessions apart, useless as a cookie.
    ref: str
    login_at: datetime | None
    last_activity: datetime | None
    channel: str
    current: bool  # its security counter is the customer's (it would still work)


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.get_current_timezone())
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class SessionScan:
    rows: list[SessionRow]
    truncated: bool


def customer_sessions(customer: Customer) -> SessionScan:
    """The customer's live sessions (database sessions carrying their customer_id).

    Reads at most ``session_scan_limit`` unexpired sessions, newest first, and decodes
    each (sessions are signed, not indexed by customer); ``truncated`` says when there
    were more. Idle ones that the middleware would end are left out.
    """
    limit = console_int("session_scan_limit")
    # Django's own session expiry is wall-clock time, as the session framework keeps it.
    live = Session.objects.filter(expire_date__gt=timezone.now()).order_by("-expire_date")
    candidates = list(live.values_list("session_key", "session_data")[: limit + 1])
    store = SessionStore()
    now = clock.timestamp()
    idle = float(settings.NETBANK_SESSION_IDLE_SECONDS)
    rows = []
    for key, data in candidates[:limit]:
        decoded = store.decode(data)
        if decoded.get(customer_session.CUSTOMER_ID) != customer.pk:
            continue
        try:
            last = float(decoded.get(customer_session.LAST_ACTIVITY, 0))
        except (TypeError, ValueError):
            continue
        if now - last > idle:
            continue
        rows.append(
            SessionRow(
                ref=hashlib.sha256(key.encode()).hexdigest()[:10],
                login_at=_when(decoded.get(customer_session.LOGIN_AT)),
                last_activity=_when(last),
                channel=str(decoded.get(customer_session.CHANNEL) or ""),
                current=decoded.get(customer_session.SECURITY_COUNTER) == customer.security_counter
                and customer.status == Customer.Status.ACTIVE,
            )
        )
    return SessionScan(rows, len(candidates) > limit)


def customer_tokens(customer: Customer) -> QuerySet[Token]:
    return Token.objects.filter(customer=customer).order_by("-created_at", "-id")[:20]


def customer_logins(customer: Customer, limit: int = 20) -> QuerySet[AuditRecord]:
    return AuditRecord.objects.filter(customer_id=customer.pk, event__in=LOGIN_EVENTS).order_by(
        "-occurred_at", "-id"
    )[:limit]


def customer_transfers(customer: Customer, limit: int = 20) -> QuerySet[Transfer]:
    return (
        Transfer.objects.filter(customer=customer)
        .select_related("from_account")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_audit(customer: Customer) -> QuerySet[AuditRecord]:
    return AuditRecord.objects.filter(customer_id=customer.pk).order_by("-occurred_at", "-id")


def customer_mails(customer: Customer, limit: int = 10) -> QuerySet[OutboxMail]:
    return OutboxMail.objects.filter(to_addr=customer.email).order_by("-created_at", "-id")[:limit]


def pending_lift(customer: Customer) -> LiftRequest | None:
    return (
        LiftRequest.objects.filter(customer=customer, state=LiftRequest.State.PENDING)
        .select_related("requested_by", "identity_check")
        .first()
    )


def pending_lifts() -> QuerySet[LiftRequest]:
    return (
        LiftRequest.objects.filter(state=LiftRequest.State.PENDING)
        .select_related("customer", "requested_by")
        .order_by("requested_at")
    )


def identity_checks(customer: Customer, limit: int = 10) -> QuerySet[IdentityCheck]:
    return (
        IdentityCheck.objects.filter(customer=customer)
        .select_related("operator")
        .order_by("-created_at", "-id")[:limit]
    )


def last_suspension(customer: Customer) -> AuditRecord | None:
    return (
        AuditRecord.objects.filter(customer_id=customer.pk, event="customer.suspended")
        .order_by("-occurred_at", "-id")
        .first()
    )


def customer_passkeys(customer: Customer) -> QuerySet[Passkey]:
    """Every passkey the customer registered, revoked ones too, newest first."""
    return Passkey.objects.filter(customer=customer).order_by("-created_at", "-pk")
