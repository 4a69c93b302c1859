"""Directログイン (leaflet part 2, Step 3): the token app logs the customer in.

The app sends ログインID + ログインパスワード, its サービスID and ユーザID, and the OTP it
computes itself. The bank checks them in this order and answers one generic failure
whatever went wrong, so the answer never says which part was wrong:

1. the login's own first step, ``customers.services.login_check_password`` with
   channel "direct": the same per-IP throttle, the same lockout counter (per customer,
   or per login-ID string for unknown IDs), one Argon2 verification;
2. the token named by the ユーザID must be the customer's, in use or activated;
3. the OTP through ``otp.verification.otp_verify`` (channel "direct"), the one
   verification sequence every channel shares, with its lockout counter. For a token
   that is only activated this is 利用開始: ``otp.tokens.services.token_start_use`` puts it in
   use (and revokes the token it replaces), so the first Direct login completes the
   set-up as the leaflet says.

Success gives a single-use URL valid for at most 60 seconds. Only the SHA-256 of its
random token is stored; opening it (``direct_login_open``) consumes it with one
conditional UPDATE, so it works once, for one browser, on any number of app nodes.
The URL is never logged and never written to the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction

from netbank import clock
from netbank.audit.services import record
from netbank.customers import lockout
from netbank.customers.models import Customer
from netbank.customers.services import LoginResult, login_check_password
from netbank.ops import metrics
from netbank.otp.models import DirectLoginTicket, Token
from netbank.otp.tokens import selectors, services
from netbank.otp.verification import otp_verify

CHANNEL = "direct"
# The longest a Direct login URL may live; a bank setting may only shorten it.
MAX_URL_SECONDS = 60
TICKET_BYTES = 32
# token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
_TICKET_RE = re.compile(r"[A-Za-z0-9_-]{43}")


class DirectLoginResult(StrEnum):
    OK = "ok"
    FAILED = "failed"  # any credential, token or OTP problem: one answer for all
    THROTTLED = "throttled"  # too many login attempts from this client address


@dataclass(frozen=True, repr=False)
class DirectLoginOutcome:
    """``ticket`` is the URL's secret part: give it to the app once, keep it nowhere."""

    result: DirectLoginResult
    ticket: str = ""
    expires_at: datetime | None = None

    def __repr__(self) -> str:  # the ticket never reaches a log or a traceback
        return f"DirectLoginOutcome(result={self.result!r}, expires_at={self.expires_at!r})"


def url_seconds() -> int:
    """How long a Direct login URL lives: the bank setting, never more than 60 s."""
    configured = int(settings.NETBANK_OTP.get("direct_login_url_seconds", MAX_URL_SECONDS))
    return max(1, min(MAX_URL_SECONDS, configured))


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("ascii")).hexdigest()


def ticket_well_formed(ticket: object) -> bool:
    return isinstance(ticket, str) and bool(_TICKET_RE.fullmatch(ticket))


def _failed() -> DirectLoginOutcome:
    return DirectLoginOutcome(DirectLoginResult.FAILED)


def _second_factor_failed(customer: Customer, *, ip: str | None, reason: str) -> None:
    """A correct password with no usable token behind the ユーザID counts as a wrong OTP."""
    with transaction.atomic():
        lockout.lockout_register_failure(
            kind=lockout.OTP,
            subject=lockout.subject_for_customer(customer),
            customer=customer,
            ip=ip,
        )
        record("direct_login.failed", customer_id=customer.pk, ip=ip, reason=reason)


def _ticket_create(*, customer: Customer, token: Token, ip: str | None) -> DirectLoginOutcome:
    """A fresh single-use URL token; called inside the transaction that accepted the OTP."""
    ticket = secrets.token_urlsafe(TICKET_BYTES)
    now = clock.now()
    expires_at = now + timedelta(seconds=url_seconds())
    # This customer's spent and expired URLs are of no further use (the audit keeps them).
    DirectLoginTicket.objects.filter(customer=customer, expires_at__lte=now).delete()
    row = DirectLoginTicket.objects.create(
        customer=customer,
        token=token,
        token_hash=ticket_hash(ticket),
        security_counter=customer.security_counter,
        created_at=now,
        expires_at=expires_at,
    )
    metrics.direct_login("issued")
    record(
        "direct_login.url_issued",
        customer_id=customer.pk,
        ip=ip,
        ticket_id=row.pk,
        token_id=token.pk,
        expires_at=expires_at.isoformat(),
    )
    return DirectLoginOutcome(DirectLoginResult.OK, ticket=ticket, expires_at=expires_at)


def direct_login_begin(
    *,
    service_id: str,
    user_id: str,
    login_id: str,
    password: str,
    code: str,
    ip: str | None,
) -> DirectLoginOutcome:
    """Check the app's Direct login; on success a single-use URL token (see module doc)."""
    login = login_check_password(login_id=login_id, password=password, ip=ip, channel=CHANNEL)
    if login.result is LoginResult.THROTTLED:
        return DirectLoginOutcome(DirectLoginResult.THROTTLED)
    customer = login.customer
    if customer is None:
        # Unknown ID, wrong password, locked or suspended: login_check_password has
        # counted and audited it (channel "direct").
        return _failed()
    expected = str(settings.NETBANK_OTP["service_id"]).encode()
    if not hmac.compare_digest(service_id.encode(), expected):
        record("direct_login.failed", customer_id=customer.pk, ip=ip, reason="service_id")
        return _failed()
    token = Token.objects.filter(
        customer=customer,
        user_id=user_id,
        state__in=(Token.State.IN_USE, Token.State.ACTIVATED),
    ).first()
    if token is None:
        _second_factor_failed(customer, ip=ip, reason="no_token")
        return _failed()

    if token.state == Token.State.ACTIVATED:
        # 利用開始 by Direct login. Only the newest issue can be set up (a newer issue
        # voids older ones, but check rather than assume).
        newest = selectors.token_pending(customer)
        if newest is None or newest.pk != token.pk:
            _second_factor_failed(customer, ip=ip, reason="superseded")
            return _failed()
        with transaction.atomic():
            started = services.token_start_use(customer=customer, code=code, ip=ip, channel=CHANNEL)
            if not started.started or started.token is None:
                record(
                    "direct_login.failed",
                    customer_id=customer.pk,
                    ip=ip,
                    reason=f"start_use_{started.result}",
                )
                return _failed()
            record(
                "direct_login.start_use",
                customer_id=customer.pk,
                ip=ip,
                token_id=started.token.pk,
            )
            return _ticket_create(customer=customer, token=started.token, ip=ip)

    with transaction.atomic():
        outcome = otp_verify(token=token, code=code, channel=CHANNEL, ip=ip)
        if not outcome.accepted:
            # otp_verify has counted and audited it.
            return _failed()
        return _ticket_create(customer=customer, token=token, ip=ip)


def direct_login_open(*, ticket: str, ip: str | None) -> Customer | None:
    """Consume a Direct login URL: the customer to log in, or None.

    None when the URL is unknown, already used (by this or any other browser), expired,
    or when the customer was suspended or had their sessions revoked since it was made.
    """
    if not ticket_well_formed(ticket):
        return None
    digest = ticket_hash(ticket)
    now = clock.now()
    with transaction.atomic():
        consumed = DirectLoginTicket.objects.filter(
            token_hash=digest, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        row = DirectLoginTicket.objects.filter(token_hash=digest).select_related("customer").first()
        if row is None:
            # Never issued (or long purged): nothing to attach an audit record to.
            return None
        if not consumed:
            reason = "used" if row.used_at is not None else "expired"
            record(
                "direct_login.open_refused",
                customer_id=row.customer_id,
                ip=ip,
                ticket_id=row.pk,
                reason=reason,
            )
            return None
        customer = row.customer
        if (
            customer.status != Customer.Status.ACTIVE
            or customer.security_counter != row.security_counter
        ):
            record(
                "direct_login.open_refused",
                customer_id=customer.pk,
                ip=ip,
                ticket_id=row.pk,
                reason="revoked",
            )
            return None
        record("direct_login.opened", customer_id=customer.pk, ip=ip, ticket_id=row.pk)
        metrics.direct_login("used")
        return customer


def direct_login_tickets_purge(*, before: datetime) -> int:
    """Housekeeping: delete URLs that expired before ``before``. A customer's own spent
    URLs go when they get a new one; this catches those who never come back. Keep a
    margin (``netbank purge-otp-sessions`` keeps a day) so that a late click on a recent
    URL is still refused as "expired" in the audit trail rather than as unknown."""
    deleted, _ = DirectLoginTicket.objects.filter(expires_at__lt=before).delete()
    return deleted
