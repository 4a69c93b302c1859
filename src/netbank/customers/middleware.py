"""Attach the logged-in customer to each request, or end the session.

Checked on every request, never cached: the customer's status and security
counter (so a helpdesk suspension ends sessions on every app process at once),
the idle timeout and the absolute lifetime.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from netbank import clock
from netbank.customers import session as customer_session
from netbank.customers.models import Customer

# Paths whose requests are not customer activity (the idle warning's own check).
PASSIVE_PATHS = frozenset({"/session/status"})


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
                request.session.flush()
                request.session_end_reason = reason  # type: ignore[attr-defined]
        return self.get_response(request)

    def _check(self, request: HttpRequest, customer_id: int) -> str | None:
        now = clock.timestamp()
        last = float(request.session.get(customer_session.LAST_ACTIVITY, 0))
        login_at = float(request.session.get(customer_session.LOGIN_AT, 0))
        if now - last > settings.NETBANK_SESSION_IDLE_SECONDS:
            return "idle"
        if now - login_at > settings.NETBANK_SESSION_ABSOLUTE_SECONDS:
            return "expired"
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None or customer.status != Customer.Status.ACTIVE:
            return "suspended"
        if customer.security_counter != request.session.get(customer_session.SECURITY_COUNTER):
            return "revoked"
        request.customer = customer  # type: ignore[attr-defined]
        if request.path not in PASSIVE_PATHS:
            request.session[customer_session.LAST_ACTIVITY] = now
        return None


def idle_seconds_left(request: HttpRequest) -> int:
    last = float(request.session.get(customer_session.LAST_ACTIVITY, 0))
    left = settings.NETBANK_SESSION_IDLE_SECONDS - (clock.timestamp() - last)
    return max(0, int(left))
