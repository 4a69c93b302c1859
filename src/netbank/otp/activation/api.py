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
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from netbank.audit.services import record
from netbank.customers.throttle import client_key, throttle_hit
from netbank.oath import activation as proto
from netbank.otp.activation.services import (
    ActivationFailedError,
    activation_finish,
    activation_start,
)
from netbank.otp.activation.signing_key import SigningKeyError
from netbank.otp.crypto import SealError
from netbank.web.api_json import (
    JsonApiError,
    error_response,
    json_response,
    read_object,
)
from netbank.web.client_address import client_address

log = logging.getLogger(__name__)

THROTTLE_SCOPE = "activation"
THROTTLE_WINDOW_SECONDS = 60

# The error codes this API answers with (web.api_json.MESSAGES has their statuses and
# messages; docs/protocols.md lists them).
ERROR_CODES = frozenset(
    {
        "activation_failed",
        "bad_request",
        "invalid_field",
        "too_large",
        "unsupported_media_type",
        "method_not_allowed",
        "not_found",
        "throttled",
        "server_error",
    }
)


def _throttle(request: HttpRequest) -> None:
    """Per-IP limit on activation requests, shared by every app process."""
    ip = client_address(request)
    result = throttle_hit(
        scope=THROTTLE_SCOPE,
        key=client_key(ip),
        limit=int(settings.NETBANK_THROTTLE.get("activation_per_ip_per_minute", 30)),
        window_seconds=THROTTLE_WINDOW_SECONDS,
    )
    if not result.allowed:
        if result.first_refusal:
            record("activation.throttled", ip=ip)
        raise JsonApiError("throttled", retry_after=result.retry_after)


def _api_view(
    handler: Callable[[HttpRequest], dict[str, Any]],
) -> Callable[[HttpRequest], HttpResponse]:
    """POST-only JSON endpoint: errors as JSON, throttled per IP, never cached."""

    @csrf_exempt
    @never_cache
    def view(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return error_response(JsonApiError("method_not_allowed"))
        try:
            _throttle(request)
            return json_response(handler(request))
        except JsonApiError as exc:
            return error_response(exc)
        except ActivationFailedError:
            return error_response(JsonApiError("activation_failed"))
        except (SealError, SigningKeyError, proto.ActivationError):
            # Input was checked above, so this is the bank's configuration (keys, token
            # parameters): the app may retry later; the log says why.
            log.exception("activation API cannot answer")
            return error_response(JsonApiError("server_error"))

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def _start(request: HttpRequest) -> dict[str, Any]:
    """Round one: POST {service_id, user_id, app_public_key} → the signed answer."""
    data = read_object(request, required=("service_id", "user_id", "app_public_key"))
    try:
        service_id = proto.check_service_id(data["service_id"])
    except proto.ActivationError:
        raise JsonApiError("invalid_field", field="service_id") from None
    try:
        user_id = proto.check_user_id(data["user_id"])
    except proto.ActivationError:
        raise JsonApiError("invalid_field", field="user_id") from None
    try:
        app_public_key = proto.check_x25519_public_key(
            proto.b64url_decode(
                data["app_public_key"], length=proto.PUBLIC_KEY_BYTES, field="app_public_key"
            )
        )
    except proto.ActivationError:
        raise JsonApiError("invalid_field", field="app_public_key") from None
    return activation_start(
        service_id=service_id,
        user_id=user_id,
        app_public_key=app_public_key,
        ip=client_address(request),
    )


def _finish(request: HttpRequest) -> dict[str, Any]:
    """Round two: POST {transcript_id, proof} → the bank's confirmation MAC."""
    data = read_object(request, required=("transcript_id", "proof"))
    try:
        transcript_id = proto.b64url_encode(
            proto.b64url_decode(
                data["transcript_id"], length=proto.TRANSCRIPT_ID_BYTES, field="transcript_id"
            )
        )
    except proto.ActivationError:
        raise JsonApiError("invalid_field", field="transcript_id") from None
    try:
        proof = proto.b64url_decode(data["proof"], length=proto.MAC_BYTES, field="proof")
    except proto.ActivationError:
        raise JsonApiError("invalid_field", field="proof") from None
    confirmation = activation_finish(
        transcript_id=transcript_id, proof=proof, ip=client_address(request)
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
    return error_response(JsonApiError("not_found"))
