"""The customer's own security pages: emergency stop (from a mail link, or inside the
bank) and the login history. Thin: the rules are in ``customers.suspension`` and
``customers.notices_security``.

GET only ever shows; only a POST (with its CSRF token) suspends, so a mail scanner or
a browser prefetch that follows the link suspends nobody.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import session as customer_session
from netbank.customers.decorators import customer_required
from netbank.customers.models import Customer
from netbank.customers.notices_security import (
    LinkExpiredError,
    LinkInvalidError,
    emergency_stop_customer,
)
from netbank.customers.suspension import (
    SOURCE_CUSTOMER_LINK,
    SOURCE_CUSTOMER_WEB,
    customer_suspend,
)
from netbank.web.client_address import client_address

# What the login history shows, and how it names each event.
HISTORY_EVENTS = {
    "login.succeeded": _lazy("ログイン"),
    "login.new_device": _lazy("新しい端末からのログイン"),
    "login.failed": _lazy("ログイン失敗（ログインIDまたはパスワードの誤り）"),
    "login.refused_locked": _lazy("ログイン失敗（ロック中）"),
    "login.refused_suspended": _lazy("ログイン失敗（お取引停止中）"),
    "otp.rejected": _lazy("ワンタイムパスワードの誤り"),
    "otp.locked": _lazy("ワンタイムパスワードのロック"),
    "direct_login.failed": _lazy("Directログイン失敗"),
    "lockout.locked": _lazy("ロック"),
    "customer.suspended": _lazy("お取引の緊急停止"),
    "customer.reactivated": _lazy("お取引の再開"),
}
CHANNEL_LABELS = {
    "web": _lazy("ブラウザ"),
    "direct": _lazy("Directログイン（アプリ）"),
}
# What an operator did (a record with an operator): the address is the console's.
BY_HELPDESK = _lazy("ヘルプデスク")
HISTORY_DAYS = 90
HISTORY_ROWS = 100


def _no_referrer(response: HttpResponse) -> HttpResponse:
    """The link's token is in the URL: it must not travel to another site in a Referer
    or sit in a cache. ``same-origin``, not ``no-referrer``: with no referrer at all the
    browser sends ``Origin: null`` on the page's own POST, and the CSRF check refuses it."""
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def emergency_stop_link_view(request: HttpRequest, token: str) -> HttpResponse:
    """The page the link in a security mail opens."""
    try:
        customer = emergency_stop_customer(token)
    except LinkExpiredError:
        return _no_referrer(
            render(request, "customers/security/link_invalid.html", {"expired": True}, status=410)
        )
    except LinkInvalidError:
        return _no_referrer(
            render(request, "customers/security/link_invalid.html", {"expired": False}, status=400)
        )
    if request.method == "POST":
        outcome = customer_suspend(
            customer=customer,
            source=SOURCE_CUSTOMER_LINK,
            reason="customer_link",
            ip=client_address(request),
        )
        # If this browser was logged in as that customer, its session has ended too.
        if request.session.get(customer_session.CUSTOMER_ID) == customer.pk:
            customer_session.session_logout(request)
        return _no_referrer(
            render(
                request,
                "customers/security/emergency_stop_done.html",
                {"already": not outcome.suspended_now},
            )
        )
    return _no_referrer(
        render(
            request,
            "customers/security/emergency_stop.html",
            {
                "target": customer,
                "already": customer.status == Customer.Status.SUSPENDED,
                "from_link": True,
            },
        )
    )


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def emergency_stop_view(request: HttpRequest) -> HttpResponse:
    """緊急利用停止 inside the bank, for a logged-in customer."""
    customer: Customer = request.customer  # type: ignore[attr-defined]
    if request.method == "POST":
        outcome = customer_suspend(
            customer=customer,
            source=SOURCE_CUSTOMER_WEB,
            reason="customer_web",
            ip=client_address(request),
        )
        customer_session.session_logout(request)
        return render(
            request,
            "customers/security/emergency_stop_done.html",
            {"already": not outcome.suspended_now},
        )
    return render(
        request,
        "customers/security/emergency_stop.html",
        {"target": customer, "already": False, "from_link": False},
    )


@never_cache
@customer_required
def login_history_view(request: HttpRequest) -> HttpResponse:
    """ログイン履歴: logins, failures, locks and new devices of the last 90 days."""
    customer: Customer = request.customer  # type: ignore[attr-defined]
    since = clock.now() - timedelta(days=HISTORY_DAYS)
    rows = []
    for rec in AuditRecord.objects.filter(
        customer_id=customer.pk, event__in=list(HISTORY_EVENTS), occurred_at__gte=since
    ).order_by("-occurred_at", "-id")[:HISTORY_ROWS]:
        channel = rec.data.get("channel") if isinstance(rec.data, dict) else None
        if rec.operator_id is not None:
            # Done by the helpdesk: the address recorded is the operator's, not the
            # customer's, so the row names the helpdesk instead of showing it.
            rows.append(
                {"at": rec.occurred_at, "what": HISTORY_EVENTS[rec.event], "channel": BY_HELPDESK}
            )
            continue
        rows.append(
            {
                "at": rec.occurred_at,
                "what": HISTORY_EVENTS[rec.event],
                "channel": CHANNEL_LABELS.get(str(channel), "") if channel else "",
                "ip": rec.ip or "",
            }
        )
    return render(
        request,
        "customers/security/login_history.html",
        {"rows": rows, "days": HISTORY_DAYS},
    )
