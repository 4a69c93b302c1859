"""Security notices about suspension, lift and helpdesk actions, and the customer's
own emergency-stop link that every security mail carries (a login from a new device
is announced by the login notice itself, ``customers.services.login_completed``).

The link (``emergency_stop_url``) opens a confirmation page; only its POST suspends,
so a mail scanner that follows links suspends nobody. The link's token is signed with
Django's signing framework under a salt of its own (it can be used for nothing else),
names the customer by id only, carries its creation time, and expires after
``EMERGENCY_STOP_LINK_MAX_AGE`` (a bank setting, 30 days by default). It is never
written to the audit trail or the logs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from netbank import clock
from netbank.customers.models import Customer
from netbank.notifications.services import notice_enqueue

EMERGENCY_STOP_SALT = "netbank.customers.emergency-stop"
PURPOSE_SUSPENDED = "security_suspended_notice"
PURPOSE_LIFTED = "security_lifted_notice"
PURPOSE_HELPDESK_ACTION = "security_helpdesk_notice"


def emergency_stop_max_age() -> timedelta:
    days = int(getattr(settings, "NETBANK_EMERGENCY_STOP_LINK_DAYS", 30))
    return timedelta(days=max(1, days))


class _ClockSigner(signing.TimestampSigner):
    """Django's TimestampSigner on the bank's one clock (tests move it, never sleep)."""

    def timestamp(self) -> str:
        return signing.b62_encode(int(clock.timestamp()))

    def unsign(self, value: str, max_age: float | timedelta | None = None) -> str:
        result = super(signing.TimestampSigner, self).unsign(value)
        raw, ts = result.rsplit(self.sep, 1)
        if max_age is not None:
            seconds = max_age.total_seconds() if isinstance(max_age, timedelta) else max_age
            age = clock.timestamp() - signing.b62_decode(ts)
            if age > seconds:
                raise signing.SignatureExpired(f"Signature age {age} > {seconds} seconds")
        return raw


def emergency_stop_token(customer: Customer) -> str:
    return _ClockSigner(salt=EMERGENCY_STOP_SALT).sign_object({"c": customer.pk}, compress=False)


def emergency_stop_url(customer: Customer) -> str:
    """The absolute URL of the customer's emergency-stop confirmation page, for mails."""
    base = str(settings.NETBANK_PUBLIC_URL).rstrip("/")
    path = reverse("customers:emergency_stop_link", args=[emergency_stop_token(customer)])
    return base + path


class LinkInvalidError(Exception):
    """Not a link the bank made (tampered, truncated, another purpose)."""


class LinkExpiredError(Exception):
    """A real link, older than the bank accepts."""


def emergency_stop_customer(token: str) -> Customer:
    """The customer an emergency-stop token names. Raises LinkInvalidError or LinkExpiredError."""
    if not isinstance(token, str) or not 10 <= len(token) <= 200:
        raise LinkInvalidError
    try:
        value = _ClockSigner(salt=EMERGENCY_STOP_SALT).unsign_object(
            token, max_age=emergency_stop_max_age()
        )
    except signing.SignatureExpired:
        raise LinkExpiredError from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise LinkInvalidError from None
    customer_id = value.get("c") if isinstance(value, dict) else None
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        raise LinkInvalidError
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise LinkInvalidError
    return customer


# --- mails --------------------------------------------------------------------------


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def _send(*, customer: Customer, subject: str, template: str, purpose: str, **extra: Any) -> None:
    notice_enqueue(
        to=customer.email,
        subject=subject,
        template=template,
        context={"customer": customer, "at": _local(clock.now()), **extra},
        purpose=purpose,
    )


# What the suspension notice says about who asked for it.
SOURCE_TEXT = {
    "helpdesk": "ヘルプデスクへのご連絡により",
    "customer_link": "メールに記載の「利用停止」のお手続きにより",
    "customer_web": "インターネットバンキングでの「緊急利用停止」のお手続きにより",
}


def suspended_notice_enqueue(*, customer: Customer, source: str) -> None:
    _send(
        customer=customer,
        subject="お取引の緊急停止について",
        template="customers/mail/suspended_notice.txt",
        purpose=PURPOSE_SUSPENDED,
        source_text=SOURCE_TEXT.get(source, ""),
    )


def lifted_notice_enqueue(*, customer: Customer, tokens_resumed: bool) -> None:
    _send(
        customer=customer,
        subject="お取引の再開について",
        template="customers/mail/lifted_notice.txt",
        purpose=PURPOSE_LIFTED,
        tokens_resumed=tokens_resumed,
    )


def helpdesk_action_notice_enqueue(*, customer: Customer, what: str, detail: str = "") -> None:
    """A notice of something the helpdesk did on the customer's behalf (unlock, token
    reset): the customer learns of it even if the caller was not the customer."""
    _send(
        customer=customer,
        subject="ヘルプデスクでのお手続きについて",
        template="customers/mail/helpdesk_notice.txt",
        purpose=PURPOSE_HELPDESK_ACTION,
        what=what,
        detail=detail,
    )
