"""Input that once answered 500: lone surrogates in JSON, digits that int() refuses, dates
at the ends of the calendar. Each is refused with the documented error, nothing echoed."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from netbank.banking.models import Payee
from netbank.digits import is_ascii_digits, parse_id
from netbank.otp.channels.services import channel_key_create
from tests.banking.factories import customer_with_account, login

pytestmark = pytest.mark.django_db

JSON_ENDPOINTS = [
    "/api/v1/activation/start",
    "/api/v1/activation/finish",
    "/api/v1/direct-login",
    "/api/v1/verify",
    "/banking/api/v1/signing/pending",
]


def _post_json(path: str, body: bytes, *, key: str | None = None) -> tuple[int, dict[str, str]]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    client = Client(REMOTE_ADDR="192.0.2.77", raise_request_exception=False)
    r = client.generic("POST", path, body, content_type="application/json", **headers)
    assert r["Content-Type"].startswith("application/json"), r.content[:300]
    # The answer is valid UTF-8 JSON (an echoed lone surrogate could not be encoded).
    return r.status_code, json.loads(r.content.decode("utf-8"))["error"]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        b'{"\\ud800": "x"}',
        b'{"\\udfff\\u0041": "x"}',
        b'{"otp": "\\ud800"}',
        b'{"service_id": "\\ud800", "user_id": "123456789012", "time": "1", "mac": "AA"}',
        b'{"service_id": "x", "user_id": "\\udc00", "app_public_key": "\\ud83d"}',
        b'{"transcript_id": "\\ud800", "proof": "A"}',
    ],
)
def test_lone_surrogates_in_json_are_a_400_without_echo(path: str, body: bytes) -> None:
    key = channel_key_create(name="fuzz").key if path.endswith("/verify") else None
    status, error = _post_json(path, body, key=key)
    assert status == 400
    assert error["code"] in {"bad_request", "invalid_field"}
    assert "\\ud" not in json.dumps(error)


def test_signing_fetch_with_a_surrogate_service_id_is_a_400() -> None:
    body = b'{"service_id":"\\ud800","user_id":"123456789012","time":"1","mac":"AA"}'
    status, error = _post_json("/banking/api/v1/signing/pending", body)
    assert status == 400
    assert error["code"] == "bad_request"


def test_a_paired_surrogate_is_an_ordinary_character() -> None:
    # "\ud83d\ude00" is 😀: valid text, so the request is judged on its fields as usual.
    body = b'{"service_id":"\\ud83d\\ude00","user_id":"123456789012","time":"1","mac":"AA"}'
    status, error = _post_json("/banking/api/v1/signing/pending", body)
    assert status == 401
    assert error["code"] == "unauthorized"


@pytest.mark.parametrize("payee", ["²", "①", "٣", "１", "9" * 4301, "-1", " 1", "1 "])
def test_payee_ids_that_are_not_ascii_digits_lead_back_to_the_list(payee: str) -> None:
    customer, _ = customer_with_account()
    client = login(customer)
    client.raise_request_exception = False
    r = client.get(reverse("banking:furikomi_input"), {"payee": payee})
    assert r.status_code == 302
    assert r["Location"] == reverse("banking:furikomi")
    assert Payee.objects.count() == 0


@pytest.mark.parametrize("view", ["banking:statement", "banking:statement_csv"])
@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "9999-12-31"},
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_to": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
        {"date_to": "0001-01-05"},
    ],
)
def test_statement_dates_outside_the_calendar_range_get_a_message(
    view: str, query: dict[str, str], frozen_clock: datetime
) -> None:
    customer, account = customer_with_account()
    client = login(customer)
    client.raise_request_exception = False
    r = client.get(reverse(view, args=[account.pk]), query)
    assert r.status_code == 400
    assert "の範囲で入力してください" in r.content.decode()


@pytest.mark.parametrize(
    "value", ["", "²", "①", "٣", "１", "1 ", "1\n", "-1", "+1", "1_0", 12, None]
)
def test_only_ascii_digits_are_digits(value: object) -> None:
    assert not is_ascii_digits(value)
    assert parse_id(value) is None


def test_ascii_digit_lengths() -> None:
    assert is_ascii_digits("0123", length=4)
    assert not is_ascii_digits("0123", length=5)
    assert is_ascii_digits("9" * 64)
    assert not is_ascii_digits("9" * 65)
    assert parse_id("42") == 42
    assert parse_id("0") is None
    assert parse_id("9" * 19) is None
