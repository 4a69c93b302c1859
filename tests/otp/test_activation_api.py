"""The activation API under bad input: clear JSON errors, nothing changed, never a 500."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.oath import activation as proto
from netbank.otp.models import ActivationSession, Token
from tests.otp.factories import issue_token

pytestmark = pytest.mark.django_db
START = "/api/v1/activation/start"
FINISH = "/api/v1/activation/finish"


def _start_body(token: Token) -> dict[str, str]:
    _, public = proto.x25519_generate()
    return {
        "service_id": "100001",
        "user_id": token.user_id,
        "app_public_key": proto.b64url_encode(public),
    }


def _post(path: str, body: Any, *, content_type: str = "application/json", **extra: Any) -> Any:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return Client(REMOTE_ADDR="198.51.100.20").generic(
        "POST", path, data, content_type=content_type, **extra
    )


def _assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert "no-store" in response["Cache-Control"]
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["message_en"]
    return dict(error)


@pytest.fixture
def token(frozen_clock: datetime) -> Token:
    return issue_token()


def _unchanged(token: Token) -> None:
    fresh = Token.objects.get(pk=token.pk)
    assert fresh.state == Token.State.ISSUED
    assert fresh.activation_failures == 0
    assert fresh.activation_ciphertext is not None
    assert not ActivationSession.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2, 3]",
        b'"a string"',
        b"\xff\xfe\x00",  # not UTF-8
        b"[" * 2000 + b"]" * 2000,  # nesting deeper than the parser's recursion limit
        b'{"service_id": "100001", "user_id": ',  # truncated
    ],
    ids=["text", "array", "string", "binary", "deep", "truncated"],
)
@pytest.mark.parametrize("path", [START, FINISH])
def test_malformed_json_is_a_400_json_error(token: Token, path: str, raw: bytes) -> None:
    response = _post(path, raw)
    code = "too_large" if len(raw) > 4096 else "bad_request"
    _assert_error(response, 400, code)
    _unchanged(token)


@pytest.mark.parametrize("path", [START, FINISH])
def test_empty_body_is_a_400_json_error(token: Token, path: str) -> None:
    response = Client().generic("POST", path, b"", CONTENT_TYPE="application/json")
    _assert_error(response, 400, "bad_request")
    _unchanged(token)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user_id": 394817265043}, "user_id"),
        ({"user_id": "39481726504"}, "user_id"),
        ({"user_id": "３９４８１７２６５０４３"}, "user_id"),
        ({"user_id": None}, "user_id"),
        ({"service_id": ["100001"]}, "service_id"),
        ({"service_id": "1" * 33}, "service_id"),
        ({"app_public_key": "AAAA"}, "app_public_key"),
        ({"app_public_key": proto.b64url_encode(bytes(32))}, "app_public_key"),  # small order
        ({"app_public_key": {"x": 1}}, "app_public_key"),
        ({"extra": "field"}, "extra"),
    ],
)
def test_bad_start_fields_name_the_field_and_store_nothing(
    token: Token, change: dict[str, Any], field: str
) -> None:
    body: dict[str, Any] = {**_start_body(token), **change}
    error = _assert_error(_post(START, body), 400, "invalid_field")
    assert error["field"] == field
    _unchanged(token)


def test_missing_field_is_named(token: Token) -> None:
    body = _start_body(token)
    del body["app_public_key"]
    assert _assert_error(_post(START, body), 400, "invalid_field")["field"] == "app_public_key"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transcript_id": "short", "proof": proto.b64url_encode(bytes(32))}, "transcript_id"),
        ({"transcript_id": proto.b64url_encode(bytes(16)), "proof": "AAAA"}, "proof"),
        ({"transcript_id": proto.b64url_encode(bytes(16)), "proof": 12}, "proof"),
        ({"proof": proto.b64url_encode(bytes(32))}, "transcript_id"),
    ],
)
def test_bad_finish_fields_name_the_field(token: Token, body: dict[str, Any], field: str) -> None:
    assert _assert_error(_post(FINISH, body), 400, "invalid_field")["field"] == field
    _unchanged(token)


def test_oversize_body_is_refused_before_parsing(token: Token) -> None:
    body = {**_start_body(token), "padding": "x" * 10_000}
    _assert_error(_post(START, body), 400, "too_large")
    _unchanged(token)


def test_body_beyond_the_servers_upload_limit_is_a_json_error(token: Token) -> None:
    raw = b'{"x": "' + b"x" * 100_000 + b'"}'
    _assert_error(_post(START, raw), 400, "too_large")
    _unchanged(token)


def test_wrong_content_type_is_refused(token: Token) -> None:
    response = _post(START, json.dumps(_start_body(token)), content_type="text/plain")
    _assert_error(response, 415, "unsupported_media_type")
    _unchanged(token)


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_get_a_json_405(token: Token, method: str) -> None:
    response = getattr(Client(), method)(START)
    _assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/activation/start", "/api/"])
def test_unknown_api_paths_get_a_json_404(path: str) -> None:
    _assert_error(Client().get(path), 404, "not_found")


def test_no_csrf_token_is_needed_by_the_app(token: Token) -> None:
    response = Client(enforce_csrf_checks=True).post(
        START, _start_body(token), content_type="application/json"
    )
    assert response.status_code == 200


def test_start_answer_is_never_cached(token: Token) -> None:
    response = _post(START, _start_body(token))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    session = ActivationSession.objects.get(token=token)
    assert session.transcript_id == response.json()["transcript_id"]
    # The bank's ephemeral private key is stored sealed, never in clear.
    assert session.ephemeral_ciphertext is not None
    assert len(bytes(session.ephemeral_ciphertext)) == 32 + 16  # AES-GCM tag
    assert session.ephemeral_key_id == "test1"


def test_only_the_newest_round_one_answers_are_kept(token: Token) -> None:
    ids = [_post(START, _start_body(token)).json()["transcript_id"] for _ in range(7)]
    kept = set(ActivationSession.objects.values_list("transcript_id", flat=True))
    assert kept == set(ids[-5:])


@override_settings(
    NETBANK_THROTTLE={"login_per_ip_per_minute": 20, "activation_per_ip_per_minute": 3}
)
def test_requests_beyond_the_per_ip_limit_are_throttled(token: Token) -> None:
    for _ in range(3):
        assert _post(START, _start_body(token)).status_code == 200
    response = _post(START, _start_body(token))
    _assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert AuditRecord.objects.filter(event="activation.throttled").count() == 1
    # Another address is not affected, and the window ends.
    other = Client(REMOTE_ADDR="198.51.100.99").post(
        START, _start_body(token), content_type="application/json"
    )
    assert other.status_code == 200
    clock.advance(60)
    assert _post(START, _start_body(token)).status_code == 200


def test_finish_for_an_unknown_transcript_is_the_generic_refusal(token: Token) -> None:
    body = {
        "transcript_id": proto.b64url_encode(bytes(16)),
        "proof": proto.b64url_encode(bytes(32)),
    }
    _assert_error(_post(FINISH, body), 403, "activation_failed")


def test_finish_locks_the_token_row_before_it_checks(token: Token) -> None:
    start = _post(START, _start_body(token)).json()
    body = {"transcript_id": start["transcript_id"], "proof": proto.b64url_encode(bytes(32))}
    with CaptureQueriesContext(connection) as queries:
        _post(FINISH, body)
    sql = [q["sql"] for q in queries.captured_queries]
    token_reads = [s for s in sql if 'FROM "otp_token"' in s and "SELECT" in s]
    if connection.features.has_select_for_update:
        assert token_reads
        assert "FOR UPDATE" in token_reads[0]
    assert Token.objects.get(pk=token.pk).activation_failures == 1


def test_token_parameters_the_protocol_cannot_carry_are_a_json_500(frozen_clock: datetime) -> None:
    token = issue_token(period=5)  # a misconfigured bank: periods run from 10 to 300 s
    response = _post(START, _start_body(token))
    _assert_error(response, 500, "server_error")
    assert not ActivationSession.objects.exists()
