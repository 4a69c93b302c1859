"""Directログイン over HTTP: the app's JSON call and the browser's single-use URL.

POST /api/v1/direct-login {service_id, user_id, login_id, password, otp}
    → 200 {"status": "ok", "post_url": "<…/login/direct/open/>", "ticket": "<43 chars>",
      "url": "<single-use GET URL, the fallback>", "expires_in": 60}
    → 403 {"error": {"code": "direct_login_failed", …}} for every credential, token or
      OTP failure alike; 429 when the client address is throttled; 400/405/415 for a
      request that is not of the documented form.

POST /login/direct/open/ (form field ``t``: the ticket), sent by the app's local page
    → 303 to the top page, logged in; or 303 to the page that explains the ticket is no
      longer valid; 405 for any other method. The ticket travels in the request body,
      which neither access logs nor proxies record, and never on a command line: the
      app writes an owner-only local page that posts it (``token_app.launch``) and opens
      the browser on that file's path.

GET /login/direct/?t=<token> (the fallback: the URL the customer copies where the app
cannot open a browser, or an app that predates the POST form)
    → 303 to the top page, logged in; or 303 to a page that explains the URL is no
      longer valid. Both with ``Cache-Control: no-store`` and ``Referrer-Policy:
      no-referrer``, and never any other status for GET and HEAD: Django logs the path
      of every 4xx and 5xx answer, and the token is kept out of the path (it is in the
      query string) and out of every log. Any other method is a 405 (the path it logs
      holds no token), and consumes nothing.
      A proxy that logs query strings does see it: the reason the app uses the POST
      form.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from netbank.customers import session as customer_session
from netbank.customers.validators import LOGIN_ID_MAX, LOGIN_ID_MIN, PASSWORD_MAX
from netbank.oath import activation as proto
from netbank.otp.direct_login.services import (
    CHANNEL,
    DirectLoginResult,
    direct_login_begin,
    direct_login_open,
    url_seconds,
)
from netbank.web.api_json import (
    JsonApiError,
    error_response,
    json_response,
    read_object,
)
from netbank.web.client_address import client_address

log = logging.getLogger(__name__)

TICKET_PARAM = "t"
_OTP_RE = re.compile(r"[0-9]{6,8}")
# The forms the web login takes (customers.validators), as docs/openapi.yaml states them:
# anything else is no ID or password at all, refused as invalid_field and never counted.
_LOGIN_ID_RE = re.compile(rf"[A-Za-z0-9]{{{LOGIN_ID_MIN},{LOGIN_ID_MAX}}}")
_PASSWORD_RE = re.compile(rf"[\x21-\x7e]{{1,{PASSWORD_MAX}}}")


def _failed_error() -> JsonApiError:
    phone = str(settings.NETBANK_HELPDESK.get("phone", ""))
    return JsonApiError(
        "direct_login_failed",
        status=403,
        message=(
            "ログインできませんでした。ログインID、ログインパスワードをご確認のうえ、"
            "もう一度お試しください。続けて誤るとご利用が一時停止されます。"
            f"解決しない場合は、ヘルプデスク（{phone}）へご連絡ください。"
        ),
        message_en=(
            "Could not log in. Check your login ID and password and try again. "
            "Repeated failures suspend access for a while. "
            f"If it keeps failing, please call the helpdesk ({phone})."
        ),
    )


@csrf_exempt  # the app is not a browser and sends no cookies
@never_cache
def direct_login_view(request: HttpRequest) -> HttpResponse:
    """POST /api/v1/direct-login (see the module docstring)."""
    if request.method != "POST":
        return error_response(JsonApiError("method_not_allowed"))
    try:
        data = read_object(
            request, required=("service_id", "user_id", "login_id", "password", "otp")
        )
        try:
            proto.check_service_id(data["service_id"])
        except proto.ActivationError:
            raise JsonApiError("invalid_field", field="service_id") from None
        try:
            proto.check_user_id(data["user_id"])
        except proto.ActivationError:
            raise JsonApiError("invalid_field", field="user_id") from None
        if not _LOGIN_ID_RE.fullmatch(data["login_id"]):
            raise JsonApiError("invalid_field", field="login_id")
        if not _PASSWORD_RE.fullmatch(data["password"]):
            raise JsonApiError("invalid_field", field="password")
        if not _OTP_RE.fullmatch(data["otp"]):
            raise JsonApiError("invalid_field", field="otp")
        outcome = direct_login_begin(
            service_id=data["service_id"],
            user_id=data["user_id"],
            login_id=data["login_id"],
            password=data["password"],
            code=data["otp"],
            ip=client_address(request),
        )
        if outcome.result is DirectLoginResult.THROTTLED:
            raise JsonApiError("throttled", retry_after=60)
        if outcome.result is not DirectLoginResult.OK:
            raise _failed_error()
    except JsonApiError as exc:
        return error_response(exc)
    path = reverse("otp:direct_login_open")
    url = request.build_absolute_uri(path) + f"?{TICKET_PARAM}={outcome.ticket}"
    post_url = request.build_absolute_uri(reverse("otp:direct_login_post"))
    return json_response(
        {
            "status": "ok",
            "post_url": post_url,
            "ticket": outcome.ticket,
            "url": url,
            "expires_in": url_seconds(),
        }
    )


def _clean_redirect(to: str) -> HttpResponse:
    response = HttpResponseRedirect(to, status=303)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# Exempt from the CSRF check so that a POST or PUT gets the 405 like any other method
# (not the CSRF failure page): only GET changes anything, and GET is never CSRF-checked.
@csrf_exempt
def direct_login_open_view(request: HttpRequest) -> HttpResponse:
    """GET /login/direct/?t=…: consume the single-use URL (see the module docstring).

    Only GET consumes it: a HEAD from a link preview gets the explanation page's
    redirect and leaves the URL usable; any other method is a 405.
    """
    if request.method not in ("GET", "HEAD"):
        not_allowed = HttpResponseNotAllowed(["GET", "HEAD"])
        not_allowed["Cache-Control"] = "no-store"
        return not_allowed
    if request.method != "GET":
        return _clean_redirect(reverse("otp:direct_login_failed"))
    return _consume(request, request.GET.get(TICKET_PARAM, ""))


def _origin_acceptable(request: HttpRequest) -> bool:
    """A form posted by the app's local page, or by the bank's own pages.

    A page opened from a file sends ``Origin: null`` (an opaque origin); some browsers
    send none for it. Any other origin is a web page elsewhere trying to log this
    browser in with a ticket of its own choosing (login CSRF): refused.
    """
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    return origin == f"{request.scheme}://{request.get_host()}"


# Exempt from Django's CSRF check, for this view only: the local page that posts here is
# a file of the app, with no session and no CSRF cookie of the bank, and it sends
# "Origin: null", which the CSRF check refuses. The ticket itself is the credential: 256
# random bits, single-use, valid ≤ 60 s, given only to the app that proved password and
# OTP, so a forged request cannot use a ticket it does not have. What a CSRF token would
# add, stopping a foreign page from posting *its own* ticket into this browser, the
# Origin check does for every page that is not a local file (see _origin_acceptable); the
# GET fallback has the same exposure and no way to check it.
@csrf_exempt
def direct_login_post_view(request: HttpRequest) -> HttpResponse:
    """POST /login/direct/open/ (see the module docstring)."""
    if request.method != "POST":
        # The path carries no ticket, so Django's 405 log line carries none either; a
        # ticket in a query string here is not read, hence not consumed.
        response: HttpResponse = HttpResponseNotAllowed(["POST"])
        response["Cache-Control"] = "no-store"
        return response
    if not _origin_acceptable(request):
        return _clean_redirect(reverse("otp:direct_login_failed"))
    return _consume(request, request.POST.get(TICKET_PARAM, ""))


def _consume(request: HttpRequest, ticket: str) -> HttpResponse:
    """Log the browser in with ``ticket``, or send it to the explanation page."""
    failed = reverse("otp:direct_login_failed")
    try:
        customer = direct_login_open(ticket=ticket, ip=client_address(request))
    except DatabaseError:
        # Logged without the request path, which would carry the token.
        log.exception("Direct login URL could not be checked (database error)")
        return _clean_redirect(failed)
    if customer is None:
        return _clean_redirect(failed)
    # A fresh session for this customer: nothing of whatever this browser held before.
    request.session.flush()
    customer_session.session_login(request, customer, channel=CHANNEL)
    return _clean_redirect(reverse("customers:top"))


@never_cache
@require_GET
def direct_login_failed_view(request: HttpRequest) -> HttpResponse:
    """The clean page a used, expired or unknown Direct login URL leads to."""
    return render(request, "otp/phone/direct_failed.html", {"seconds": url_seconds()})
