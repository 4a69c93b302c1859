"""POST /api/v1/verify: OTP verification for the bank's other channels.

    Authorization: Bearer <the channel's API key>
    {"user_id": "<ユーザID>", "otp": "123456"}   or   {"login_id": "<ログインID>", "otp": …}
    → 200 {"result": "accepted" | "rejected" | "locked"}

Errors are JSON (otp.api_json): 401 for a missing, wrong or revoked key; 429 when the
channel exceeds its rate limit; 400/405/415 for a request that is not of this form.
Lean on purpose: no session, no CSRF (no cookies are involved), no templates; the work
is one key lookup, the channel's rate-limit bucket and ``otp_verify``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from netbank.audit.services import record
from netbank.customers.throttle import throttle_hit
from netbank.oath import activation as proto
from netbank.otp.api_json import (
    JsonApiError,
    client_ip,
    error_response,
    json_response,
    read_object,
)
from netbank.otp.channels import Channel, channel_authenticate, channel_verify

THROTTLE_SCOPE = "verify"
THROTTLE_WINDOW_SECONDS = 60
_OTP_RE = re.compile(r"[0-9]{6,8}")
_LOGIN_ID_RE = re.compile(r"[A-Za-z0-9]{1,12}")
_BEARER = "bearer "


def _authenticate(request: HttpRequest) -> Channel:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header[: len(_BEARER)].lower() == _BEARER:
        raise JsonApiError("unauthorized")
    key = channel_authenticate(header[len(_BEARER) :].strip())
    if key is None:
        raise JsonApiError("unauthorized")
    return key


def _throttle(key: Channel, ip: str | None) -> None:
    result = throttle_hit(
        scope=THROTTLE_SCOPE,
        key=key.name,
        limit=int(settings.NETBANK_THROTTLE.get("verify_per_channel_per_minute", 6000)),
        window_seconds=THROTTLE_WINDOW_SECONDS,
    )
    if not result.allowed:
        if result.first_refusal:
            record("channel.throttled", ip=ip, channel=key.name, limit=result.limit)
        raise JsonApiError("throttled", retry_after=result.retry_after)


@csrf_exempt
def verify_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(JsonApiError("method_not_allowed"))
    ip = client_ip(request)
    try:
        key = _authenticate(request)
        _throttle(key, ip)
        data = read_object(request, required=("otp",), optional=("user_id", "login_id"))
        user_id = data.get("user_id")
        login_id = data.get("login_id")
        if (user_id is None) == (login_id is None):
            # Exactly one of the two names the customer.
            raise JsonApiError("invalid_field", field="user_id")
        if user_id is not None:
            try:
                proto.check_user_id(user_id)
            except proto.ActivationError:
                raise JsonApiError("invalid_field", field="user_id") from None
        if login_id is not None and not _LOGIN_ID_RE.fullmatch(login_id):
            raise JsonApiError("invalid_field", field="login_id")
        if not _OTP_RE.fullmatch(data["otp"]):
            raise JsonApiError("invalid_field", field="otp")
    except JsonApiError as exc:
        return error_response(exc)
    result = channel_verify(
        channel=key.name, code=data["otp"], user_id=user_id, login_id=login_id, ip=ip
    )
    return json_response({"result": str(result)})
