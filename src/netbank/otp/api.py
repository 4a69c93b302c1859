"""The token app's JSON API, version 1 (docs/openapi.yaml).

Views only translate HTTP to the activation services. Every answer is JSON with
``Cache-Control: no-store``; every error is ``{"error": {"code", "message",
"message_en"}}`` with a 4xx status, so bad input of any kind never becomes a 500.
The app is not a browser and sends no cookies, so these views are exempt from CSRF.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from netbank.audit.services import record
from netbank.customers.throttle import client_key, throttle_hit
from netbank.oath import activation as proto
from netbank.otp.activation import ActivationFailedError, activation_finish, activation_start
from netbank.otp.api_json import JsonApiError, read_object
from netbank.otp.crypto import SealError
from netbank.otp.signing_key import SigningKeyError

log = logging.getLogger(__name__)

THROTTLE_SCOPE = "activation"
THROTTLE_WINDOW_SECONDS = 60

MESSAGES: dict[str, tuple[str, str]] = {
    "activation_failed": (
        "トークンの設定ができませんでした。サービスID、ユーザID、利用開始パスワードをご確認ください。"
        "解決しない場合は、ヘルプデスクへご連絡ください。",
        "The token could not be set up. Check the service ID, user ID and activation "
        "password. If it keeps failing, please call the helpdesk.",
    ),
    "bad_request": (
        "リクエストの形式が正しくありません。",
        "The request is not valid JSON of the expected form.",
    ),
    "invalid_field": (
        "入力内容に誤りがあります。",
        "A field of the request is missing or malformed.",
    ),
    "too_large": (
        "リクエストが大きすぎます。",
        "The request is too large.",
    ),
    "unsupported_media_type": (
        "リクエストはJSON（application/json）で送信してください。",
        "Send the request as JSON (application/json).",
    ),
    "method_not_allowed": (
        "この操作はできません。",
        "This method is not allowed here.",
    ),
    "not_found": (
        "指定されたAPIはありません。",
        "There is no such API.",
    ),
    "throttled": (
        "短時間に多くのリクエストがありました。しばらくしてから、もう一度お試しください。",
        "Too many requests. Please wait a moment and try again.",
    ),
    "server_error": (
        "ただいま処理できません。しばらくしてから、もう一度お試しください。",
        "The request cannot be processed now. Please try again later.",
    ),
}

STATUS = {
    "activation_failed": 403,
    "bad_request": 400,
    "invalid_field": 400,
    "too_large": 400,
    "unsupported_media_type": 415,
    "method_not_allowed": 405,
    "not_found": 404,
    "throttled": 429,
    "server_error": 500,
}


class ApiError(Exception):
    def __init__(self, code: str, *, field: str | None = None, retry_after: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.retry_after = retry_after


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def error_response(error: ApiError) -> JsonResponse:
    message, message_en = MESSAGES[error.code]
    body: dict[str, Any] = {"code": error.code, "message": message, "message_en": message_en}
    if error.field:
        body["field"] = error.field
    response = _json({"error": body}, status=STATUS[error.code])
    if error.code == "method_not_allowed":
        response["Allow"] = "POST"
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response


def _read_object(request: HttpRequest, fields: tuple[str, ...]) -> dict[str, object]:
    """The request body as a JSON object with exactly ``fields``, or ApiError."""
    try:
        return dict(read_object(request, required=fields))
    except JsonApiError as exc:
        raise ApiError(exc.code, field=exc.field) from None


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _throttle(request: HttpRequest) -> None:
    """Per-IP limit on activation requests, shared by every app process."""
    ip = _client_ip(request)
    result = throttle_hit(
        scope=THROTTLE_SCOPE,
        key=client_key(ip),
        limit=int(settings.NETBANK_THROTTLE.get("activation_per_ip_per_minute", 30)),
        window_seconds=THROTTLE_WINDOW_SECONDS,
    )
    if not result.allowed:
        if result.first_refusal:
            record("activation.throttled", ip=ip)
        raise ApiError("throttled", retry_after=result.retry_after)


def _api_view(
    handler: Callable[[HttpRequest], dict[str, Any]],
) -> Callable[[HttpRequest], HttpResponse]:
    """POST-only JSON endpoint: errors as JSON, throttled per IP, never cached."""

    @csrf_exempt
    @never_cache
    def view(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return error_response(ApiError("method_not_allowed"))
        try:
            _throttle(request)
            return _json(handler(request))
        except ApiError as exc:
            return error_response(exc)
        except ActivationFailedError:
            return error_response(ApiError("activation_failed"))
        except (SealError, SigningKeyError, proto.ActivationError):
            # Input was checked above, so this is the bank's configuration (keys, token
            # parameters): the app may retry later; the log says why.
            log.exception("activation API cannot answer")
            return error_response(ApiError("server_error"))

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def _start(request: HttpRequest) -> dict[str, Any]:
    """Round one: POST {service_id, user_id, app_public_key} → the signed answer."""
    data = _read_object(request, ("service_id", "user_id", "app_public_key"))
    try:
        service_id = proto.check_service_id(data["service_id"])
    except proto.ActivationError:
        raise ApiError("invalid_field", field="service_id") from None
    try:
        user_id = proto.check_user_id(data["user_id"])
    except proto.ActivationError:
        raise ApiError("invalid_field", field="user_id") from None
    try:
        app_public_key = proto.check_x25519_public_key(
            proto.b64url_decode(
                data["app_public_key"], length=proto.PUBLIC_KEY_BYTES, field="app_public_key"
            )
        )
    except proto.ActivationError:
        raise ApiError("invalid_field", field="app_public_key") from None
    return activation_start(
        service_id=service_id,
        user_id=user_id,
        app_public_key=app_public_key,
        ip=_client_ip(request),
    )


def _finish(request: HttpRequest) -> dict[str, Any]:
    """Round two: POST {transcript_id, proof} → the bank's confirmation MAC."""
    data = _read_object(request, ("transcript_id", "proof"))
    try:
        transcript_id = proto.b64url_encode(
            proto.b64url_decode(
                data["transcript_id"], length=proto.TRANSCRIPT_ID_BYTES, field="transcript_id"
            )
        )
    except proto.ActivationError:
        raise ApiError("invalid_field", field="transcript_id") from None
    try:
        proof = proto.b64url_decode(data["proof"], length=proto.MAC_BYTES, field="proof")
    except proto.ActivationError:
        raise ApiError("invalid_field", field="proof") from None
    confirmation = activation_finish(
        transcript_id=transcript_id, proof=proof, ip=_client_ip(request)
    )
    return {
        "status": "activated",
        "transcript_id": transcript_id,
        "server_confirmation": proto.b64url_encode(confirmation),
    }


activation_start_view = _api_view(_start)
activation_finish_view = _api_view(_finish)


@csrf_exempt
@never_cache
def api_not_found_view(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/: a JSON 404, not the HTML error page."""
    return error_response(ApiError("not_found"))
