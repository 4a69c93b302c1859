"""JSON in and out for the bank's JSON APIs (activation, Direct login, channel
verification, transaction signing): every answer is JSON with ``Cache-Control: no-store``; every error is ``{"error": {"code", "message",
"message_en"[, "field"]}}`` with a 4xx status, so bad input never becomes a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

# Requests are a few hundred bytes; anything much bigger is not a client of ours.
MAX_BODY_BYTES = 4096

MESSAGES: dict[str, tuple[int, str, str]] = {
    "bad_request": (
        400,
        "リクエストの形式が正しくありません。",
        "The request is not valid JSON of the expected form.",
    ),
    "invalid_field": (
        400,
        "入力内容に誤りがあります。",
        "A field of the request is missing or malformed.",
    ),
    "too_large": (400, "リクエストが大きすぎます。", "The request is too large."),
    "unsupported_media_type": (
        415,
        "リクエストはJSON（application/json）で送信してください。",
        "Send the request as JSON (application/json).",
    ),
    "method_not_allowed": (405, "この操作はできません。", "This method is not allowed here."),
    "throttled": (
        429,
        "短時間に多くのリクエストがありました。しばらくしてから、もう一度お試しください。",
        "Too many requests. Please wait a moment and try again.",
    ),
    "unauthorized": (
        401,
        "APIキーが正しくないか、無効になっています。",
        "The API key is missing, wrong or revoked.",
    ),
    "activation_failed": (
        403,
        "トークンの設定ができませんでした。サービスID、ユーザID、利用開始パスワードをご確認ください。"
        "解決しない場合は、ヘルプデスクへご連絡ください。",
        "The token could not be set up. Check the service ID, user ID and activation "
        "password. If it keeps failing, please call the helpdesk.",
    ),
    "not_found": (404, "指定されたAPIはありません。", "There is no such API."),
    "server_error": (
        500,
        "ただいま処理できません。しばらくしてから、もう一度お試しください。",
        "The request cannot be processed now. Please try again later.",
    ),
}


BEARER_CHALLENGE = 'Bearer realm="netbank", error="invalid_token"'


class JsonApiError(Exception):
    """An answer with an error body; ``code`` is a key of ``MESSAGES`` unless
    ``message`` is given."""

    def __init__(
        self,
        code: str,
        *,
        field: str | None = None,
        retry_after: int = 0,
        status: int = 0,
        message: str = "",
        message_en: str = "",
        challenge: str = "",
    ) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.retry_after = retry_after
        self.status = status
        self.message = message
        self.message_en = message_en
        # A 401's WWW-Authenticate challenge, for an endpoint that does not take the
        # channel API's bearer key.
        self.challenge = challenge


def json_response(data: dict[str, Any], status: int = 200) -> HttpResponse:
    return encoded_json_response(json.dumps(data, ensure_ascii=False).encode(), status)


def encoded_json_response(body: bytes, status: int = 200) -> HttpResponse:
    """An answer whose JSON is already encoded (a fixed answer encoded once)."""
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def error_response(error: JsonApiError) -> HttpResponse:
    status, message, message_en = MESSAGES.get(error.code, (400, "", ""))
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message or message,
        "message_en": error.message_en or message_en,
    }
    if error.field:
        body["field"] = error.field
    response = json_response({"error": body}, status=error.status or status)
    if error.code == "method_not_allowed":
        response["Allow"] = "POST"
    if error.code == "unauthorized":
        response["WWW-Authenticate"] = error.challenge or BEARER_CHALLENGE
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response


def _is_text(value: Any) -> bool:
    """Every string in ``value`` (keys too) is text that UTF-8 can carry: JSON's
    ``\\ud800`` escapes decode to lone surrogates, which no answer, log line or
    database column can hold."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_is_text(k) and _is_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_text(item) for item in value)
    return True


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The one strict reader of JSON request bodies: UTF-8 JSON whose top level is an
    object and whose strings are all valid text. Anything else is a ``bad_request``
    (never echoed). Raises JsonApiError."""
    try:
        data = json.loads(raw.decode("utf-8"))
        text = _is_text(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise JsonApiError("bad_request") from None
    if not isinstance(data, dict) or not text:
        raise JsonApiError("bad_request")
    return data


def read_object(
    request: HttpRequest, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """The body as a JSON object of strings: every ``required`` field, any of
    ``optional``, nothing else. Raises JsonApiError."""
    if (request.content_type or "").lower() != "application/json":
        raise JsonApiError("unsupported_media_type")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise JsonApiError("bad_request") from None
    if declared > MAX_BODY_BYTES:
        raise JsonApiError("too_large")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise JsonApiError("too_large") from None
    if len(raw) > MAX_BODY_BYTES:
        raise JsonApiError("too_large")
    data = parse_json_object(raw)
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        raise JsonApiError("invalid_field", field=str(unknown[0])[:64])
    for name in required:
        if not isinstance(data.get(name), str):
            raise JsonApiError("invalid_field", field=name)
    for name in optional:
        if name in data and not isinstance(data[name], str):
            raise JsonApiError("invalid_field", field=name)
    return {name: value for name, value in data.items() if isinstance(value, str)}
