"""POST /api/v1/verify: OTP verification for the bank's other channels, and its keys.

Every test goes through the real view, the real key lookup, the real throttle and the
same ``otp_verify`` the web login uses.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer, ThrottleBucket
from netbank.oath.totp import totp
from netbank.otp.channels.services import (
    ChannelKeyError,
    channel_authenticate_and_count,
    channel_key_create,
    channel_key_revoke,
)
from netbank.otp.models import ChannelApiKey, Token
from netbank.otp.token_secret import token_seed
from tests.otp.factories import in_use_token, issue_token, make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/verify"


def _code(token: Token, *, steps: int = 0) -> str:
    token.refresh_from_db()
    return totp(
        token_seed(token),
        clock.timestamp() + steps * token.period,
        period=token.period,
        digits=token.digits,
        algorithm=token.algorithm,
    )


def _wrong(token: Token) -> str:
    return f"{(int(_code(token)) + 1) % 10**token.digits:0{token.digits}d}"


def _call(key: str | None, body: dict[str, Any] | bytes, **extra: Any) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key is not None else {}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Client(REMOTE_ADDR="192.0.2.10").generic(
        "POST", URL, raw, content_type="application/json", **headers, **extra
    )


def _result(response: Any) -> str:
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    return str(json.loads(response.content)["result"])


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.content
    return str(json.loads(response.content)["error"]["code"])


@pytest.fixture
def key() -> str:
    return channel_key_create(name="telephone").key


# --- verification ---------------------------------------------------------------------


def test_correct_code_by_user_id_is_accepted_once(frozen_clock: datetime, key: str) -> None:
    token = in_use_token()
    code = _code(token)

    assert _result(_call(key, {"user_id": token.user_id, "otp": code})) == "accepted"
    assert _result(_call(key, {"user_id": token.user_id, "otp": code})) == "rejected"


def test_correct_code_by_login_id_is_accepted(frozen_clock: datetime, key: str) -> None:
    token = in_use_token()
    customer = token.customer

    assert _result(_call(key, {"login_id": customer.login_id, "otp": _code(token)})) == "accepted"


def test_wrong_code_is_rejected_and_counts_toward_the_shared_otp_lockout(
    frozen_clock: datetime, key: str
) -> None:
    token = in_use_token()

    assert _result(_call(key, {"user_id": token.user_id, "otp": _wrong(token)})) == "rejected"

    counter = lockout.lockout_status(
        kind=lockout.OTP, subject=lockout.subject_for_customer(token.customer)
    )
    assert not counter.locked
    from netbank.customers.models import FailureCounter

    row = FailureCounter.objects.get(
        kind=lockout.OTP, subject=lockout.subject_for_customer(token.customer)
    )
    assert row.consecutive_failures == 1


def test_fifth_wrong_code_locks_and_then_even_the_right_code_is_locked(
    frozen_clock: datetime, key: str
) -> None:
    token = in_use_token()
    results = [
        _result(_call(key, {"user_id": token.user_id, "otp": _wrong(token)})) for _ in range(5)
    ]
    assert results == ["rejected"] * 4 + ["locked"]

    assert _result(_call(key, {"user_id": token.user_id, "otp": _code(token)})) == "locked"


def test_call_for_a_token_locked_by_the_web_login_answers_locked(
    frozen_clock: datetime, key: str
) -> None:
    from netbank.otp.verification import otp_verify

    token = in_use_token()
    for _ in range(5):
        otp_verify(token=token, code=_wrong(token), channel="web")

    assert _result(_call(key, {"login_id": token.customer.login_id, "otp": _code(token)})) == (
        "locked"
    )


def test_channel_failures_lock_the_web_login_too(frozen_clock: datetime, key: str) -> None:
    from netbank.otp.verification import Result, otp_verify

    token = in_use_token()
    for _ in range(5):
        _call(key, {"user_id": token.user_id, "otp": _wrong(token)})

    assert otp_verify(token=token, code=_code(token), channel="web").result is Result.LOCKED


@pytest.mark.parametrize("state", [Token.State.ISSUED, Token.State.SUSPENDED, Token.State.REVOKED])
def test_token_not_in_use_is_rejected_without_counting(
    frozen_clock: datetime, key: str, state: str
) -> None:
    token = in_use_token(state=state) if state != Token.State.ISSUED else issue_token()

    assert _result(_call(key, {"user_id": token.user_id, "otp": "123456"})) == "rejected"
    assert not lockout.lockout_status(
        kind=lockout.OTP, subject=lockout.subject_for_customer(token.customer)
    ).locked
    refused = AuditRecord.objects.get(event="channel.verify_refused")
    assert refused.data.pop("request_id")  # the id of the request it happened in
    assert refused.data == {"channel": "telephone", "reason": f"token_{state}"}


def test_suspended_customer_is_rejected_even_with_the_right_code(
    frozen_clock: datetime, key: str
) -> None:
    token = in_use_token()
    Customer.objects.filter(pk=token.customer_id).update(status=Customer.Status.SUSPENDED)

    assert _result(_call(key, {"user_id": token.user_id, "otp": _code(token)})) == "rejected"
    token.refresh_from_db()
    assert token.last_step == -1


def test_unknown_user_is_rejected(frozen_clock: datetime, key: str) -> None:
    assert _result(_call(key, {"user_id": "123456789012", "otp": "123456"})) == "rejected"
    assert _result(_call(key, {"login_id": "nosuchid", "otp": "123456"})) == "rejected"
    assert AuditRecord.objects.filter(event="channel.verify_refused").count() == 2


def test_login_id_of_a_customer_without_otp_is_rejected(frozen_clock: datetime, key: str) -> None:
    customer = make_customer()
    assert _result(_call(key, {"login_id": customer.login_id, "otp": "123456"})) == "rejected"


def test_every_call_leaves_an_audit_record_with_the_channel_name(
    frozen_clock: datetime, key: str
) -> None:
    token = in_use_token()
    before = AuditRecord.objects.count()

    _call(key, {"user_id": token.user_id, "otp": _code(token)})
    _call(key, {"user_id": token.user_id, "otp": _wrong(token)})
    _call(key, {"user_id": "123456789012", "otp": "123456"})

    events = list(AuditRecord.objects.order_by("pk")[before:].values_list("event", "data__channel"))
    verify_events = [
        e for e in events if e[0] in {"otp.accepted", "otp.rejected", "channel.verify_refused"}
    ]
    assert verify_events == [
        ("otp.accepted", "telephone"),
        ("otp.rejected", "telephone"),
        ("channel.verify_refused", "telephone"),
    ]
    trail = json.dumps(list(AuditRecord.objects.values("data")), default=str)
    assert key not in trail


# --- keys ---------------------------------------------------------------------------------


def test_missing_wrong_or_malformed_key_is_401(frozen_clock: datetime, key: str) -> None:
    token = in_use_token()
    body = {"user_id": token.user_id, "otp": _code(token)}

    assert _error(_call(None, body), 401) == "unauthorized"
    assert _error(_call("nbk_" + "A" * 43, body), 401) == "unauthorized"
    assert _error(_call(key[:-1], body), 401) == "unauthorized"
    r = Client().generic(
        "POST",
        URL,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {key}",
    )
    assert _error(r, 401) == "unauthorized"
    assert "Bearer" in r["WWW-Authenticate"]
    token.refresh_from_db()
    assert token.last_step == -1  # nothing was verified


def test_revoked_key_is_401(frozen_clock: datetime, key: str) -> None:
    token = in_use_token()
    channel_key_revoke(name="telephone")

    r = _call(key, {"user_id": token.user_id, "otp": _code(token)})

    assert _error(r, 401) == "unauthorized"
    token.refresh_from_db()
    assert token.last_step == -1


def test_key_is_stored_only_as_its_sha256(key: str) -> None:
    row = ChannelApiKey.objects.get(name="telephone")
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(list(ChannelApiKey.objects.values()))
    assert key.startswith(row.key_prefix)
    assert len(key) == 4 + 43  # nbk_ + 256 bits in base64url


def test_a_channel_holds_one_active_key_and_may_get_a_new_one_after_revoking(key: str) -> None:
    with pytest.raises(ChannelKeyError, match="already has an active key"):
        channel_key_create(name="telephone")
    channel_key_revoke(name="telephone")
    new = channel_key_create(name="telephone").key
    assert new != key
    assert ChannelApiKey.objects.filter(name="telephone").count() == 2
    with pytest.raises(ChannelKeyError):
        channel_key_revoke(name="nosuch")


@pytest.mark.parametrize("name", ["web", "direct", "A", "x", "has space", "ünï", "-lead", "a" * 33])
def test_reserved_or_malformed_channel_names_are_refused(name: str) -> None:
    with pytest.raises(ChannelKeyError):
        channel_key_create(name=name)
    assert not ChannelApiKey.objects.exists()


def test_channel_keys_command_creates_lists_and_revokes() -> None:
    out, err = StringIO(), StringIO()
    call_command("channel_keys", "create", "branch-system", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("nbk_")
    assert "shown only now" in err.getvalue()

    listing = StringIO()
    call_command("channel_keys", "list", stdout=listing)
    assert "branch-system" in listing.getvalue()
    assert "active" in listing.getvalue()
    assert key not in listing.getvalue()
    assert key[:10] in listing.getvalue()

    call_command("channel_keys", "revoke", "branch-system", stdout=StringIO())
    listing = StringIO()
    call_command("channel_keys", "list", stdout=listing)
    assert "revoked" in listing.getvalue()
    assert _error(_call(key, {"user_id": "123456789012", "otp": "123456"}), 401) == "unauthorized"

    with pytest.raises(CommandError, match="no active key"):
        call_command("channel_keys", "revoke", "branch-system")
    with pytest.raises(CommandError, match="reserved"):
        call_command("channel_keys", "create", "web")
    assert AuditRecord.objects.filter(event="channel_key.created").count() == 1
    assert AuditRecord.objects.filter(event="channel_key.revoked").count() == 1


def test_netbank_console_script_runs_channel_keys() -> None:
    from netbank.cli import main

    out = StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        main(["channel-keys", "list"])
    assert "no channel keys" in out.getvalue()


# --- rate limit ------------------------------------------------------------------------------


def test_a_flood_from_one_channel_is_throttled_and_others_are_not(
    frozen_clock: datetime, key: str, settings: Settings
) -> None:
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "verify_per_channel_per_minute": 5}
    other = channel_key_create(name="branch").key
    token = in_use_token()
    body = {"user_id": token.user_id, "otp": "000000"}

    statuses = [
        _call(key, {"user_id": "123456789012", "otp": "123456"}).status_code for _ in range(8)
    ]

    assert statuses == [200] * 5 + [429] * 3
    r = _call(key, body)
    assert _error(r, 429) == "throttled"
    assert int(r["Retry-After"]) >= 1
    # Refused before any verification: no OTP failure counted for the flood.
    assert not lockout.lockout_status(
        kind=lockout.OTP, subject=lockout.subject_for_customer(token.customer)
    ).locked
    # One audit record for the refusals of this window, not one per request.
    assert AuditRecord.objects.filter(event="channel.throttled").count() == 1
    # Another channel has its own limit.
    assert _call(other, {"user_id": token.user_id, "otp": _code(token)}).status_code == 200
    # The next window lets the channel in again.
    clock.advance(60)
    assert _result(_call(key, {"user_id": "123456789012", "otp": "123456"})) == "rejected"


def test_the_key_lookup_and_the_rate_limit_count_are_one_statement_on_postgresql(
    frozen_clock: datetime, key: str
) -> None:
    first = channel_authenticate_and_count(key, scope="verify", limit=3, window_seconds=60)
    assert first is not None
    assert first[1].count == 1  # this window's bucket made
    with CaptureQueriesContext(connection) as queries:
        second = channel_authenticate_and_count(key, scope="verify", limit=3, window_seconds=60)
    assert second is not None
    channel, counted = second
    assert (channel.name, counted.count, counted.allowed) == ("telephone", 2, True)
    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    bucket = ThrottleBucket.objects.get(key="verify:telephone")
    assert bucket.count == 2


def test_a_wrong_or_revoked_key_counts_nothing(frozen_clock: datetime, key: str) -> None:
    channel_authenticate_and_count(key, scope="verify", limit=3, window_seconds=60)
    wrong = "nbk_" + "A" * 43
    assert channel_authenticate_and_count(wrong, scope="verify", limit=3, window_seconds=60) is None
    channel_key_revoke(name="telephone")
    assert channel_authenticate_and_count(key, scope="verify", limit=3, window_seconds=60) is None
    assert ThrottleBucket.objects.get(key="verify:telephone").count == 1


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"otp": "123456"}, "user_id"),
        ({"user_id": "123456789012", "login_id": "abc123", "otp": "123456"}, "user_id"),
        ({"user_id": "12345", "otp": "123456"}, "user_id"),
        ({"user_id": "１２３４５６７８９０１２", "otp": "123456"}, "user_id"),
        ({"login_id": "a b", "otp": "123456"}, "login_id"),
        ({"login_id": "a" * 13, "otp": "123456"}, "login_id"),
        ({"user_id": "123456789012", "otp": "12345"}, "otp"),
        ({"user_id": "123456789012", "otp": "１２３４５６"}, "otp"),
        ({"user_id": "123456789012", "otp": 123456}, "otp"),
        ({"user_id": "123456789012"}, "otp"),
        ({"user_id": "123456789012", "otp": "123456", "pin": "1"}, "pin"),
        ({"user_id": ["123456789012"], "otp": "123456"}, "user_id"),
    ],
)
def test_bad_fields_get_a_clear_json_error(key: str, body: dict[str, Any], field: str) -> None:
    r = _call(key, body)
    assert _error(r, 400) == "invalid_field"
    assert json.loads(r.content)["error"]["field"] == field


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{", 400, "bad_request"),
        (b"null", 400, "bad_request"),
        (b"\xff", 400, "bad_request"),
        (b" " * 5000, 400, "too_large"),
    ],
)
def test_malformed_bodies_get_a_clear_json_error(
    key: str, raw: bytes, status: int, code: str
) -> None:
    assert _error(_call(key, raw), status) == code


def test_wrong_method_and_media_type(key: str) -> None:
    r = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert _error(r, 405) == "method_not_allowed"
    r = Client().post(URL, {"otp": "1"}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert _error(r, 415) == "unsupported_media_type"


def test_needs_no_session_or_csrf_token(frozen_clock: datetime, key: str) -> None:
    token = in_use_token()
    client = Client(enforce_csrf_checks=True)
    r = client.generic(
        "POST",
        URL,
        json.dumps({"user_id": token.user_id, "otp": _code(token)}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert _result(r) == "accepted"
    assert "netbank_session" not in r.cookies
