"""The customer's session: what "logged in" means, in one place.

A session is authenticated only after every required factor has passed. Between
the password and the OTP it holds a *pending* login that grants nothing.
The session key rotates at each step, so a fixed session ID cannot be planted.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from netbank import clock
from netbank.customers import login_devices
from netbank.customers.models import Customer
from netbank.customers.services import login_completed
from netbank.customers.session_keys import (
    CHANNEL,
    CUSTOMER_ID,
    ENDED_REASON,
    LAST_ACTIVITY,
    LOGIN_AT,
    OPERATOR_KEYS,
    OTP_SETUP_ONLY,
    PENDING,
    SECURITY_COUNTER,
)
from netbank.web.client_address import client_address

# The keys live in their own module, which login_devices reads too (so neither of the
# two imports the other); callers keep naming them here, as ``session.CUSTOMER_ID``.
__all__ = [
    "CHANNEL",
    "CUSTOMER_ID",
    "ENDED_REASON",
    "LAST_ACTIVITY",
    "LOGIN_AT",
    "OPERATOR_KEYS",
    "OTP_SETUP_ONLY",
    "PENDING",
    "SECURITY_COUNTER",
    "session_begin_pending",
    "session_login",
    "session_logout",
    "session_otp_setup_only",
    "session_otp_started",
    "session_pending",
    "session_sync_security_counter",
]


def _drop_operator_keys(request: HttpRequest) -> None:
    for key in OPERATOR_KEYS:
        request.session.pop(key, None)


def session_begin_pending(request: HttpRequest, customer: Customer, **extra: Any) -> None:
    """Password accepted; a second factor is still required."""
    request.session.cycle_key()
    _drop_operator_keys(request)
    request.session.pop(CUSTOMER_ID, None)
    request.session.pop(ENDED_REASON, None)
    request.session[PENDING] = {
        "customer_id": customer.pk,
        "security_counter": customer.security_counter,
        "started_at": clock.timestamp(),
        **extra,
    }


def session_pending(request: HttpRequest) -> dict[str, Any] | None:
    value = request.session.get(PENDING)
    return value if isinstance(value, dict) else None


def session_login(
    request: HttpRequest,
    customer: Customer,
    *,
    channel: str = "web",
    otp_setup_only: bool = False,
) -> None:
    """Every factor passed: the session now acts for ``customer``.

    ``otp_setup_only``: every factor the bank asks of this customer passed, but OTP is
    mandatory and not yet in use, so the session is confined to setting it up.

    The one login notice says whether this browser is new to the customer, read from
    the device cookie it sent; ``NewDeviceLoginMiddleware`` then refreshes the cookie.
    """
    new_device = not login_devices.device_known(request, customer)
    request.session.cycle_key()
    _drop_operator_keys(request)
    request.session.pop(PENDING, None)
    now = clock.timestamp()
    request.session[CUSTOMER_ID] = customer.pk
    request.session[SECURITY_COUNTER] = customer.security_counter
    request.session[LOGIN_AT] = now
    request.session[LAST_ACTIVITY] = now
    request.session[CHANNEL] = channel
    if otp_setup_only:
        request.session[OTP_SETUP_ONLY] = True
    else:
        request.session.pop(OTP_SETUP_ONLY, None)
    request.customer = customer  # type: ignore[attr-defined]
    login_completed(
        customer=customer,
        ip=client_address(request),
        channel=channel,
        new_device=new_device,
    )


def session_sync_security_counter(request: HttpRequest, customer: Customer) -> None:
    """Keep this session after ``customer_security_counter_bump`` ended all the others.

    Rotates the key too: the request that changed a credential starts a fresh session.
    """
    if request.session.get(CUSTOMER_ID) != customer.pk:
        return
    request.session.cycle_key()
    request.session[SECURITY_COUNTER] = customer.security_counter


def session_otp_setup_only(request: HttpRequest) -> bool:
    return request.session.get(OTP_SETUP_ONLY) is True


def session_otp_started(request: HttpRequest) -> None:
    """利用開始 passed in this session (an OTP of the new token): the confinement ends.

    The key rotates, as at every step that gives a session more rights.
    """
    if request.session.get(OTP_SETUP_ONLY) is None:
        return
    request.session.cycle_key()
    request.session.pop(OTP_SETUP_ONLY, None)


def session_logout(request: HttpRequest) -> None:
    request.session.flush()
    request.customer = None  # type: ignore[attr-defined]
