"""Smartphone detection and the PC / スマートフォン display switch.

Two separate questions, kept apart on purpose:

- *Is this a smartphone?* decided from the User-Agent only (``request_is_smartphone``).
  Rules that depend on the device, such as sending a phone login without OTP to the
  ワンタイムパスワード利用申請 screen (SLI012), use this and nothing else.
- *Which layout does the customer want?* (``display_mode``) the display switch stores
  it in a cookie. It changes the layout only (the viewport and a body class), never
  what the bank asks for: a phone shown the PC layout is still a phone.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

DISPLAY_COOKIE = "netbank_display"
PC = "pc"
SMARTPHONE = "sp"
MODES = frozenset({PC, SMARTPHONE})
# A year: a layout preference, not a credential.
DISPLAY_COOKIE_SECONDS = 365 * 24 * 3600
# The CSS width a phone lays the PC layout out in (wide enough for the desktop rules).
PC_LAYOUT_WIDTH = 1100

# Phones as their browsers name themselves. Tablets (iPad, Android without "Mobile")
# get the PC site, as banks usually do; iPadOS Safari says "Macintosh" anyway.
_SMARTPHONE_RE = re.compile(
    r"iPhone|iPod|Android.+Mobile|Windows Phone|BlackBerry|BB10|webOS|Opera Mini|"
    r"IEMobile|Mobile.+Firefox|Firefox.+Mobile|SamsungBrowser.+Mobile",
    re.IGNORECASE,
)
# A User-Agent longer than this is not a browser; do not spend regex time on it.
_MAX_USER_AGENT = 1024


def is_smartphone(user_agent: str | None) -> bool:
    """True when the User-Agent names a smartphone browser."""
    if not user_agent:
        return False
    return bool(_SMARTPHONE_RE.search(user_agent[:_MAX_USER_AGENT]))


def request_is_smartphone(request: HttpRequest) -> bool:
    """Whether this request comes from a smartphone (User-Agent only, never the cookie)."""
    return is_smartphone(request.META.get("HTTP_USER_AGENT"))


def display_mode(request: HttpRequest) -> str:
    """The layout to show: the customer's choice if set, else the device's own."""
    chosen = request.COOKIES.get(DISPLAY_COOKIE)
    if chosen in MODES:
        return str(chosen)
    return SMARTPHONE if request_is_smartphone(request) else PC


def display_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: ``display_mode``, ``is_smartphone`` and the viewport to use."""
    phone = request_is_smartphone(request)
    mode = display_mode(request)
    if phone and mode == PC:
        viewport = f"width={PC_LAYOUT_WIDTH}"
    else:
        viewport = "width=device-width, initial-scale=1"
    return {"display_mode": mode, "is_smartphone": phone, "display_viewport": viewport}


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return reverse("customers:login")


@never_cache
@require_POST
def display_switch_view(request: HttpRequest) -> HttpResponse:
    """表示切替: remember the chosen layout and go back to the page it was chosen on.

    A bad ``mode`` changes nothing. CSRF-protected like every POST, so another site
    cannot flip a customer's layout.
    """
    response = HttpResponseRedirect(_safe_next(request, request.POST.get("next")), status=303)
    mode = request.POST.get("mode")
    if mode in MODES:
        response.set_cookie(
            DISPLAY_COOKIE,
            str(mode),
            max_age=DISPLAY_COOKIE_SECONDS,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return response
