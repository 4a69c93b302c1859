"""Login from a device not seen before: a long-lived signed device cookie, and a notice.

Every browser that completes a login gets a cookie ``netbank_device`` holding a random
device id and, for each customer who logged in from it, a tag: an HMAC of the device id
and the customer id under the site secret. The cookie is signed (Django's signed
cookies, a salt of its own), so a tag cannot be forged or copied onto another device
id, and it names no customer in the clear. A login whose browser does not carry this
customer's tag is a login from a new device: ``session.session_login`` asks
``device_known`` before the login, and its one login notice then says so prominently
(with the emergency-stop link) and the trail gets a ``login.new_device`` record.

The cookie is written by ``NewDeviceLoginMiddleware``, after the view: a request that
turned a session without a customer into a logged-in one (web login, the OTP step, a
Directログイン URL) is a login, whichever view did it; no login view needs to know.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare, salted_hmac

from netbank.customers.models import Customer
from netbank.customers.session_keys import CUSTOMER_ID

DEVICE_COOKIE = "netbank_device"
DEVICE_SALT = "netbank.customers.device"
# Browsers cap cookie lifetimes at 400 days.
DEVICE_COOKIE_MAX_AGE = timedelta(days=400)
# A shared family PC keeps the last few customers; older ones get a notice again.
MAX_TAGS = 8
_DEVICE_ID_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")
_TAG_RE = re.compile(r"[0-9a-f]{24}")


def device_tag(device_id: str, customer_id: int) -> str:
    return salted_hmac(
        "netbank.customers.device-tag", f"{device_id}:{customer_id}", algorithm="sha256"
    ).hexdigest()[:24]


def _read(request: HttpRequest) -> tuple[str | None, list[str]]:
    raw = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_SALT)
    if not isinstance(raw, str):
        return None, []
    device_id, _, tags = raw.partition("|")
    if not _DEVICE_ID_RE.fullmatch(device_id):
        return None, []
    return device_id, [t for t in tags.split(",") if _TAG_RE.fullmatch(t)][-MAX_TAGS:]


def device_known(request: HttpRequest, customer: Customer) -> bool:
    device_id, tags = _read(request)
    if device_id is None:
        return False
    expected = device_tag(device_id, customer.pk)
    # Every tag is compared, so the time taken says nothing about which matched.
    found = False
    for tag in tags:
        found |= constant_time_compare(tag, expected)
    return found


def device_login_seen(request: HttpRequest, response: HttpResponse, customer: Customer) -> bool:
    """A login of ``customer`` just completed: refresh the cookie with its tag.

    Returns True when the device was new to this customer (the login notice already
    said so).
    """
    device_id, tags = _read(request)
    new = not device_known(request, customer)
    if device_id is None:
        device_id = secrets.token_urlsafe(24)
        tags = []
    tag = device_tag(device_id, customer.pk)
    tags = [*[t for t in tags if t != tag][-(MAX_TAGS - 1) :], tag]
    response.set_signed_cookie(
        DEVICE_COOKIE,
        f"{device_id}|{','.join(tags)}",
        salt=DEVICE_SALT,
        max_age=int(DEVICE_COOKIE_MAX_AGE.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=bool(settings.SESSION_COOKIE_SECURE),
    )
    return new


class NewDeviceLoginMiddleware:
    """Runs after ``CustomerSessionMiddleware``; see the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        before = request.session.get(CUSTOMER_ID)
        response = self.get_response(request)
        customer = getattr(request, "customer", None)
        if not isinstance(customer, Customer):
            return response
        after = request.session.get(CUSTOMER_ID)
        if after is not None and after == customer.pk and before != after:
            device_login_seen(request, response, customer)
        return response
