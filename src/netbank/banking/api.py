"""The token app's fetch of the pending 取引認証 question (docs/banking.md §4).

``POST /banking/api/v1/signing/pending`` with JSON ``{service_id, user_id, time, mac}``
where ``mac = base64url(HMAC-SHA256(pending MAC key, "netbank-signing-pending/2\\0" ‖
service_id ‖ "\\0" ‖ user_id ‖ "\\0" ‖ time))``, the pending MAC key being the HKDF
subkey of the token's transaction-signing key for this purpose (``netbank.oath.txsign``):
only the app holding that key can read the question. The answer carries the question
itself; the app shows the operation as parsed from the question, never from
anything else. Errors are one generic 401 (unknown ユーザID, wrong MAC, stale time),
so the endpoint tells nobody which ユーザIDs exist.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from netbank import clock
from netbank.banking.models import SigningChallenge
from netbank.banking.signing import is_current_format
from netbank.customers.throttle import client_key, throttle_hit
from netbank.digits import is_ascii_digits
from netbank.oath.txquestion import SUITE
from netbank.oath.txsign import pending_mac
from netbank.otp.models import Token
from netbank.otp.token_secret import token_signing_key
from netbank.web.api_json import (
    JsonApiError,
    error_response,
    json_response,
    read_object,
)
from netbank.web.client_address import client_address

MAX_CLOCK_SKEW_SECONDS = 120
THROTTLE_PER_MINUTE = 30
UNAUTHORIZED_MESSAGE = "認証できませんでした。アプリの設定と携帯電話の日時をご確認ください。"
UNAUTHORIZED_MESSAGE_EN = "Not authenticated. Check the app's set-up and the phone's clock."
# The request proves itself with the token's MAC in the body, not with a bearer key.
SIGNING_CHALLENGE = 'NetBank-Signing-MAC realm="netbank"'


def _mac(key: bytes, service_id: str, user_id: str, time: str) -> bytes:
    return pending_mac(key, service_id=service_id, user_id=user_id, time=time)


def _decode_mac(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        return b""


def _pending(request: HttpRequest) -> dict[str, Any]:
    hit = throttle_hit(
        scope="signing_pending",
        key=client_key(client_address(request)),
        limit=THROTTLE_PER_MINUTE,
        window_seconds=60,
    )
    if not hit.allowed:
        raise JsonApiError("throttled", retry_after=hit.retry_after)
    data = read_object(request, required=("service_id", "user_id", "time", "mac"))
    user_id, time_text = data["user_id"], data["time"]
    token = None
    if is_ascii_digits(user_id, length=12):
        token = Token.objects.filter(
            user_id=user_id, state=Token.State.IN_USE, kind=Token.Kind.APP
        ).first()
    # The same HMAC work whether or not the token exists.
    key = token_signing_key(token) if token is not None else secrets.token_bytes(32)
    expected = _mac(key, data["service_id"], user_id, time_text)
    mac_ok = hmac.compare_digest(expected, _decode_mac(data["mac"]))
    fresh = (
        is_ascii_digits(time_text, max_length=12)
        and abs(int(time_text) - clock.timestamp()) <= MAX_CLOCK_SKEW_SECONDS
    )
    service_ok = hmac.compare_digest(
        data["service_id"].encode("utf-8"), str(settings.NETBANK_OTP["service_id"]).encode()
    )
    if token is None or not (mac_ok and fresh and service_ok):
        raise JsonApiError(
            "unauthorized",
            status=401,
            message=UNAUTHORIZED_MESSAGE,
            message_en=UNAUTHORIZED_MESSAGE_EN,
            challenge=SIGNING_CHALLENGE,
        )
    challenge = (
        SigningChallenge.objects.filter(
            token=token, used_at__isnull=True, expires_at__gt=clock.now()
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if challenge is None or not is_current_format(challenge):
        return {"pending": False}
    return {
        "pending": True,
        "suite": SUITE,
        "question": challenge.challenge,
        "purpose": challenge.purpose,
        "expires_at": challenge.expires_at.isoformat(),
    }


@csrf_exempt
def signing_pending_view(request: HttpRequest) -> HttpResponse:
    """The pending signing question of the app's token, if any."""
    if request.method != "POST":
        return error_response(JsonApiError("method_not_allowed"))
    try:
        return json_response(_pending(request))
    except JsonApiError as error:
        return error_response(error)
