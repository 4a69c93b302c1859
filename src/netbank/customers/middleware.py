"""Attach the logged-in customer to each request, or end the session.

Checked on every request, never cached: the idle timeout, the absolute lifetime, and
the customer's status and security counter read from the database (so a helpdesk
suspension or a security-counter bump ends sessions on every app process at once).
The idle warning's own status check is the one request that is not activity.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from netbank import clock
from netbank.customers import session as customer_session
from netbank.customers.models import Customer

# Why a session was ended; the login page explains each one.
IDLE = "idle"
EXPIRED = "expired"
SUSPENDED = "suspended"
REVOKED = "revoked"


@lru_cache(maxsize=1)
def passive_paths() -> frozenset[str]:
    """Paths whose requests are not customer activity (the idle warning's own check)."""
    return frozenset({reverse("customers:session_status")})


class CustomerSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.customer = None  # type: ignore[attr-defined]
        request.session_end_reason = None  # type: ignore[attr-defined]
        customer_id = request.session.get(customer_session.CUSTOMER_ID)
        if customer_id is not None:
            reason = self._check(request, customer_id)
            if reason is not None:
                # flush(): the data is deleted and the old key can never be used again.
                request.session.flush()
                # Kept in the fresh anonymous session too, so the login page can say why
                # even when the redirect that carried ?ended= was overtaken by another request.
                request.session[customer_session.ENDED_REASON] = reason
                request.session_end_reason = reason  # type: ignore[attr-defined]
        return self.get_response(request)

    def _check(self, request: HttpRequest, customer_id: int) -> str | None:
        now = clock.timestamp()
        try:
            last = float(request.session.get(customer_session.LAST_ACTIVITY, 0))
            login_at = float(request.session.get(customer_session.LOGIN_AT, 0))
        except (TypeError, ValueError):
            return EXPIRED
        # Session data lives on the server (database backend), so these stamps are ours;
        # nodes a little out of step (NTP) must not end each other's sessions.
        if now - last > settings.NETBANK_SESSION_IDLE_SECONDS:
            return IDLE
        if now - login_at > settings.NETBANK_SESSION_ABSOLUTE_SECONDS:
            return EXPIRED
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None or customer.status != Customer.Status.ACTIVE:
            return SUSPENDED
        if customer.security_counter != request.session.get(customer_session.SECURITY_COUNTER):
            return REVOKED
        request.customer = customer  # type: ignore[attr-defined]
        if request.path not in passive_paths():
            request.session[customer_session.LAST_ACTIVITY] = now
        return None


def idle_seconds_left(request: HttpRequest) -> int:
    last = float(request.session.get(customer_session.LAST_ACTIVITY, 0))
    left = settings.NETBANK_SESSION_IDLE_SECONDS - (clock.timestamp() - last)
    return max(0, int(left))
