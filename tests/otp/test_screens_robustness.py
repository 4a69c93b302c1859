"""No bad input of any kind makes an OTP screen answer 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from netbank.otp.models import Token
from tests.otp.test_screens_support import input_data, login, make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

URL_NAMES = [
    "otp:menu",
    "otp:issue",
    "otp:reissue",
    "otp:issue_confirm",
    "otp:issue_done",
    "otp:start_use",
    "otp:start_use_done",
    "otp:cancel",
    "otp:cancel_done",
    "otp:authenticator",
    "otp:authenticator_setup",
]

JUNK_BODIES: list[dict[str, object]] = [
    {},
    {"action": "nonsense"},
    {"action": ["back", "cancel"]},
    {"email": "x" * 60_000},
    {"email": "a@b.jp\r\nBcc: evil@example.com"},
    {"activation_password": "１２３４５６", "activation_password_confirm": "１２３４５６"},
    {"activation_password": "\x00" * 8},
    {"transaction_password": "\u202e" * 64, "answer": "\x00"},
    {"code": "𝟏𝟐𝟑𝟒𝟓𝟔"},
    {"code": ["1", "2"]},
    {"answer": "あ" * 10_000},
    {"question_id": "not-a-number", "csrfmiddlewaretoken": "x"},
]

# Bodies a browser could not send but an attacker can: invalid UTF-8, a lone surrogate
# in percent-encoding, broken escapes, a giant field.
RAW_BODIES: list[bytes] = [
    b"email=%ED%A0%80&activation_password=1234&activation_password_confirm=1234",
    b"email=\xff\xfe&code=%FF%FF",
    b"code=%zz&answer=%",
    b"transaction_password=" + b"A" * 50_000,
]


@pytest.mark.parametrize("name", URL_NAMES)
def test_anonymous_requests_are_sent_to_login(name: str) -> None:
    c = Client()
    for response in (c.get(reverse(name)), c.post(reverse(name), {"code": "123456"})):
        assert response.status_code in (302, 405)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("customers:login"))


@pytest.mark.parametrize("name", URL_NAMES)
def test_junk_posts_never_answer_500(name: str) -> None:
    customer = make_customer()
    c = login(customer)
    # Also with an issue draft in the session, so 確認 parses the junk too.
    c.post(reverse("otp:issue"), input_data())
    for body in JUNK_BODIES:
        response = c.post(reverse(name), body)
        assert response.status_code < 500, (name, body, response.status_code)
        response = c.get(reverse(name), {k: v for k, v in body.items() if isinstance(v, str)})
        assert response.status_code < 500, (name, body)
    for raw in RAW_BODIES:
        response = c.generic(
            "POST", reverse(name), raw, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code < 500, (name, raw)
    assert not Token.objects.exists()


def test_session_junk_never_answers_500() -> None:
    customer = make_customer()
    c = login(customer)
    for junk in [
        "text",
        42,
        [1, 2],
        {"customer_id": customer.pk},
        {"customer_id": customer.pk, "created_at": "x"},
    ]:
        session = c.session
        session["otp_issue_draft"] = junk
        session["otp_issue_done"] = junk
        session["otp_start_use_done"] = junk
        session["otp_authenticator_attempt"] = junk
        session.save()
        for name in URL_NAMES:
            assert c.get(reverse(name)).status_code < 500, (name, junk)
        r = c.post(reverse("otp:issue_confirm"), {"transaction_password": "x", "answer": "y"})
        assert r.status_code < 500
    assert not Token.objects.exists()
