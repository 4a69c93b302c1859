"""POST /api/v1/verify: OTP verification for the bank's other channels.

    Authorization: Bearer <the channel's API key>
    {"user_id": "<ユーザID>", "otp": "123456"}   or   {"login_id": "<ログインID>", "otp": …}
    → 200 {"result": "accepted" | "rejected" | "locked"}

Errors are JSON (web.api_json): 401 for a missing, wrong or revoked key; 429 when the
channel exceeds its rate limit; 400/405/415 for a request that is not of this form.
Lean on purpose: no session, no CSRF (no cookies are involved), no templates; the work
is the key lookup with the count on the channel's rate-limit bucket (one statement on
PostgreSQL), and ``otp_verify``'s sequence.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from netbank.audit.services import record
from netbank.oath import activation as proto
from netbank.otp.channels.services import Channel, channel_authenticate_and_count, channel_verify
from netbank.otp.verification import Result
from netbank.web.api_json import (
    JsonApiError,
    encoded_json_response,
    error_response,
    read_object,
)
from netbank.web.client_address import client_address

THROTTLE_SCOPE = "verify"
THROTTLE_WINDOW_SECONDS = 60
_OTP_RE = re.compile(r"[0-9]{6,8}")
_LOGIN_ID_RE = re.compile(r"[A-Za-z0-9]{1,12}")
_BEARER = "bearer "
# The three answers, encoded once.
_ANSWERS = {result: json.dumps({"result": result.value}).encode() for result in Result}


def _authenticate_and_throttle(
    request: HttpRequest, ip: str | None, cursor: CursorWrapper
) -> Channel:
    """The calling channel, with this call counted against its rate limit."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header[: len(_BEARER)].lower() == _BEARER:
        raise JsonApiError("unauthorized")
    counted = channel_authenticate_and_count(
        header[len(_BEARER) :].strip(),
        scope=THROTTLE_SCOPE,
        limit=int(settings.NETBANK_THROTTLE.get("verify_per_channel_per_minute", 6000)),
        window_seconds=THROTTLE_WINDOW_SECONDS,
        cursor=cursor,
    )
    if counted is None:
        raise JsonApiError("unauthorized")
    channel, result = counted
    if not result.allowed:
        if result.first_refusal:
            record("channel.throttled", ip=ip, channel=channel.name, limit=result.limit)
        raise JsonApiError("throttled", retry_after=result.retry_after)
    return channel


@csrf_exempt
def verify_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(JsonApiError("method_not_allowed"))
    ip = client_address(request)
    # One cursor for the request's statements.
    with connection.cursor() as cursor:
        try:
            channel = _authenticate_and_throttle(request, ip, cursor)
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
            channel=channel.name,
            code=data["otp"],
            user_id=user_id,
            login_id=login_id,
            ip=ip,
            cursor=cursor,
        )
    return encoded_json_response(_ANSWERS[result])
