"""OTP mandatory: a session without OTP in use reaches the OTP application only.

When the bank makes OTP mandatory (``NETBANK_OTP["mandatory"]``) a customer who has
no OTP in use may set it up and do nothing else. ``OtpSetupOnlyMiddleware`` enforces
this for every request, after ``CustomerSessionMiddleware``, from the session's state
and one list of the views such a session may use; every other view, any page the bank
adds later included, redirects into the application. The User-Agent of the request
only picks the entrance (SLI012 on a smartphone, ワンタイムパスワード申請内容選択 on a
PC): both lead to setting up OTP and nowhere else, so a session that changes its
User-Agent ("desktop website" on a phone, or the reverse) never reaches more.

Two kinds of session are confined:

- A logged-in session without OTP: the web login of a customer with no token in use
  (flagged ``OTP_SETUP_ONLY`` at login), and any session of such a customer that began
  before OTP became mandatory. 利用開始 completed in the session itself (an OTP from
  the new token) lifts the flag. A flagged session whose customer's token went into
  use elsewhere ends: only an OTP given in a session lets it in, so the customer logs
  in again with the OTP.
- The phone's application (``views_phone``): not logged in at all; SLI012 only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from netbank.customers import session as customer_session
from netbank.customers.models import Customer
from netbank.otp.tokens import selectors
from netbank.web.device import request_is_smartphone

# Why a confined session ended (the login page explains it).
ENDED_OTP_IN_USE = "otp_in_use"

# Open to every session: the login steps, pages that act for no customer, logout and
# the session's own status. The token app's JSON APIs and the helpdesk console
# authenticate by other means and never act for this session's customer.
OPEN_VIEWS = frozenset(
    {
        "customers:login",
        "otp:login_otp",
        "passkeys:login_options",
        "passkeys:login",
        "customers:logout",
        "customers:session_status",
        "customers:session_extend",
        "customers:emergency_stop_link",
        "set_language",
        "display_switch",
        "web:help",
        "otp:app_download",
        "otp:app_install_config",
        "otp:app_shell",
        "otp:app_manifest",
        "otp:app_service_worker",
        "otp:phone_guide",
        "otp:direct_login_open",
        "otp:direct_login_failed",
        "banking:api_signing_pending",
    }
)
OPEN_NAMESPACES = frozenset({"api", "helpdesk", "demo"})
# SLI012 and its completion page.
PHONE_APPLICATION = frozenset({"otp:phone_apply", "otp:phone_apply_done"})
# What a logged-in session without OTP may use: the PC's トークン発行 pages, 利用開始
# (once a token exists), SLI012, and the emergency stop (it only takes access away).
OTP_APPLICATION = PHONE_APPLICATION | {
    "otp:menu",
    "otp:issue",
    "otp:issue_confirm",
    "otp:issue_done",
    "otp:start_use",
    "otp:start_use_done",
    "otp:authenticator",
    "otp:authenticator_setup",
    "customers:emergency_stop",
}

# request.otp_setup_only, set for every request by the middleware.
NONE = ""
LOGGED_IN = "logged_in"
PHONE = "phone"


def otp_mandatory() -> bool:
    return bool(settings.NETBANK_OTP.get("mandatory"))


def _phone_application(request: HttpRequest) -> bool:
    # views_phone imports this module's neighbours; the key is read by name here.
    from netbank.otp.phone.views import PHONE_APPLY

    state = request.session.get(PHONE_APPLY)
    return isinstance(state, dict) and state.get("logged_in") is False


def session_confinement(request: HttpRequest) -> str:
    """How this request's session is confined: ``NONE``, ``LOGGED_IN`` or ``PHONE``.

    May end the session (a flagged session whose customer's token went into use
    elsewhere); the request then goes on without a customer.
    """
    customer: Customer | None = getattr(request, "customer", None)
    if customer is None:
        return PHONE if _phone_application(request) else NONE
    if not otp_mandatory():
        return NONE
    in_use = selectors.token_in_use(customer) is not None
    if customer_session.session_otp_setup_only(request):
        if in_use:
            request.session.flush()
            request.session[customer_session.ENDED_REASON] = ENDED_OTP_IN_USE
            request.customer = None  # type: ignore[attr-defined]
            request.session_end_reason = ENDED_OTP_IN_USE  # type: ignore[attr-defined]
            return NONE
        return LOGGED_IN
    return NONE if in_use else LOGGED_IN


def view_allowed(confinement: str, view_name: str, namespace: str) -> bool:
    if confinement == NONE:
        return True
    if view_name in OPEN_VIEWS or namespace in OPEN_NAMESPACES:
        return True
    allowed = OTP_APPLICATION if confinement == LOGGED_IN else PHONE_APPLICATION
    return view_name in allowed


def entrance(request: HttpRequest, confinement: str) -> str:
    """Where a confined session is sent: SLI012 on a phone (and for the phone's
    application on any device), the PC's OTP menu otherwise."""
    if confinement == PHONE or request_is_smartphone(request):
        return "otp:phone_apply"
    return "otp:menu"


class OtpSetupOnlyMiddleware:
    """Runs after ``CustomerSessionMiddleware``; see the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.otp_setup_only = session_confinement(request)  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        confinement = str(getattr(request, "otp_setup_only", NONE))
        match = request.resolver_match
        if confinement == NONE or match is None:
            return None
        if view_allowed(confinement, match.view_name, match.namespace):
            return None
        return redirect(entrance(request, confinement))
