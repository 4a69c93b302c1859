"""A phone whose clock runs fast, is put right, then runs slow: every channel keeps working.

The customer's phone shows codes on its own clock. The bank learns a drift from a fast
clock; when the customer puts the clock right (as the app tells them to), the bank's
own time must still be accepted, and the drift must follow back. Each round goes
through the real web login (both steps), the channel verification API, and 取引認証
(the app fetches the pending question with its own clock, signs it, and the transfer
goes through).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.models import Account, AccountType, Transfer
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.oath.totp import totp
from netbank.otp.channels.services import channel_key_create
from netbank.otp.models import Token
from netbank.otp.token_secret import token_seed
from netbank.token_app.signing import sign_question
from netbank.token_app.signing_view import fetch_pending_question
from netbank.token_app.vault import TokenRecord
from tests.banking.factories import PASSWORD, TRANSACTION_PASSWORD, customer_with_account
from tests.banking.factories import issue_token as bank_token
from tests.otp.factories import BANK_URL, client_transport

pytestmark = pytest.mark.django_db

USED_MESSAGE = "このワンタイムパスワードは使用済みです。次のワンタイムパスワードが表示されるまでお待ちください。"
WRONG_MESSAGE = "ワンタイムパスワードが正しくありません。"

# (the phone's clock error in seconds, second of the bank's step, drift learned in steps)
FAST_RIGHT_SLOW = [
    (40, 5, 1),  # 40 s fast, early in a step: one step ahead
    (40, 25, 2),  # late in a step: two steps ahead, inside the learned drift
    (0, 5, 0),  # put right: accepted at once, and the drift moves back
    (0, 25, 0),
    (-40, 25, -1),  # 40 s slow, late in a step: one step behind
    (-40, 5, -2),  # early in a step: two steps behind, inside the learned drift
    (0, 15, 0),  # right again
]


class Phone:
    """The customer's phone with the token app: its clock is the bank's plus ``skew``."""

    def __init__(self, token: Token, signing_key: bytes) -> None:
        self.skew = 0
        self.record = TokenRecord(
            label="NetBank",
            bank_url=BANK_URL,
            service_id=str(settings.NETBANK_OTP["service_id"]),
            user_id=token.user_id,
            seed=token_seed(token),
            signing_key=signing_key,
            algorithm=token.algorithm,
            digits=token.digits,
            period=token.period,
        )

    def now(self) -> float:
        return clock.timestamp() + self.skew

    def code(self) -> str:
        r = self.record
        return totp(r.seed, self.now(), period=r.period, digits=r.digits, algorithm=r.algorithm)

    def sign_pending(self) -> str:
        question = fetch_pending_question(self.record, now=self.now(), transport=client_transport())
        assert question is not None
        return sign_question(self.record.signing_key, question)


def _at_second_of_step(second: int) -> None:
    """Move the bank's clock past the next step boundaries, to ``second`` of a step."""
    clock.advance(30 * 3 - clock.timestamp() % 30 + second)


@pytest.fixture
def customer_and_phone() -> tuple[Customer, Account, Token, Phone]:
    customer, src = customer_with_account(1_000_000)
    token, signing_key = bank_token(customer)
    return customer, src, token, Phone(token, signing_key)


def _password_step(customer: Customer) -> Client:
    client = Client(REMOTE_ADDR="198.51.100.7")
    r = client.post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": PASSWORD}
    )
    assert r.status_code == 302, r.content.decode()[:500]
    assert r["Location"] == reverse("otp:login_otp")
    return client


def _otp_step(client: Client, code: str) -> Any:
    return client.post(reverse("otp:login_otp"), {"code": code})


def _signed_transfer(client: Client, src: Account, phone: Phone, amount: int) -> None:
    r = client.post(
        reverse("banking:furikomi_input"),
        {
            "from_account": str(src.pk),
            "bank_code": "0005",
            "branch_code": "123",
            "account_type": AccountType.ORDINARY,
            "account_number": "7654321",
            "name_kana": "スズキ ハナコ",
            "amount": str(amount),
            "scheduled_for": "",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    html = client.get(reverse("banking:transfer_confirm")).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert key, html[:2000]
    r = client.post(
        reverse("banking:transfer_confirm"),
        {
            "idempotency_key": key.group(1),
            "transaction_password": TRANSACTION_PASSWORD,
            "signing_code": phone.sign_pending(),
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]


def _drift(token: Token) -> int:
    token.refresh_from_db()
    return token.drift_steps


def test_login_and_signing_with_the_clock_fast_then_right_then_slow(
    customer_and_phone: tuple[Customer, Account, Token, Phone],
) -> None:
    customer, src, token, phone = customer_and_phone
    for n, (skew, second, drift) in enumerate(FAST_RIGHT_SLOW, start=1):
        _at_second_of_step(second)
        phone.skew = skew
        client = _password_step(customer)
        r = _otp_step(client, phone.code())
        assert r.status_code == 302, (skew, second, r.content.decode()[:2000])
        assert r["Location"] == reverse("customers:top")
        assert _drift(token) == drift, (skew, second)
        # 取引認証 with the same phone: the app fetches with its own clock and signs.
        _signed_transfer(client, src, phone, amount=1_000 * n)
    assert Transfer.objects.filter(signed=True).count() == len(FAST_RIGHT_SLOW)
    assert not AuditRecord.objects.filter(event="otp.rejected").exists()
    assert not AuditRecord.objects.filter(event="banking.signing.rejected").exists()


def test_channel_api_with_the_clock_fast_then_right_then_slow(
    customer_and_phone: tuple[Customer, Account, Token, Phone],
) -> None:
    customer, _src, token, phone = customer_and_phone
    key = channel_key_create(name="telephone").key
    api = Client(REMOTE_ADDR="192.0.2.10")

    def verify(code: str) -> str:
        r = api.post(
            "/api/v1/verify",
            json.dumps({"login_id": customer.login_id, "otp": code}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert r.status_code == 200, r.content
        return str(json.loads(r.content)["result"])

    for skew, second, drift in FAST_RIGHT_SLOW:
        _at_second_of_step(second)
        phone.skew = skew
        code = phone.code()
        assert verify(code) == "accepted", (skew, second)
        assert _drift(token) == drift, (skew, second)
        assert verify(code) == "rejected"  # never twice


def test_login_right_after_a_fast_one_with_the_clock_put_right_says_the_code_is_used(
    customer_and_phone: tuple[Customer, Account, Token, Phone],
) -> None:
    customer, _src, token, phone = customer_and_phone
    phone.skew = 40
    for second in (5, 25):
        _at_second_of_step(second)
        assert _otp_step(_password_step(customer), phone.code()).status_code == 302
    assert _drift(token) == 2
    # Put right at once: the bank's own step is before the last accepted one, so the
    # code counts as used: the customer is told to wait for the next one.
    phone.skew = 0
    client = _password_step(customer)
    r = _otp_step(client, phone.code())
    assert r.status_code == 400
    assert USED_MESSAGE in r.content.decode()
    clock.advance(90)  # past the last accepted step
    r = _otp_step(client, phone.code())
    assert r.status_code == 302
    assert _drift(token) == 0


def test_a_used_code_at_the_otp_step_says_to_wait_and_counts_as_a_failure(
    customer_and_phone: tuple[Customer, Account, Token, Phone],
) -> None:
    customer, _src, _token, phone = customer_and_phone
    code = phone.code()
    assert _otp_step(_password_step(customer), code).status_code == 302
    # The same code again (e.g. a second login within the same 30 s), after the password.
    client = _password_step(customer)
    r = _otp_step(client, code)
    assert r.status_code == 400
    assert USED_MESSAGE in r.content.decode()
    assert WRONG_MESSAGE not in r.content.decode()
    rejected = AuditRecord.objects.get(event="otp.rejected")
    assert rejected.data["replay"] is True
    row = FailureCounter.objects.get(
        kind=lockout.OTP, subject=lockout.subject_for_customer(customer)
    )
    assert row.consecutive_failures == 1  # counted as the lockout rules say
    # Without the password step there is no OTP step to ask: no hint to anyone else.
    r = Client().post(reverse("otp:login_otp"), {"code": code})
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("customers:login"))
    # A wrong code still gets the usual message.
    r = _otp_step(client, f"{(int(code) + 1) % 1_000_000:06d}")
    assert WRONG_MESSAGE in r.content.decode()
    assert USED_MESSAGE not in r.content.decode()


def test_used_codes_count_toward_the_lockout_like_wrong_ones(
    customer_and_phone: tuple[Customer, Account, Token, Phone],
) -> None:
    customer, _src, _token, phone = customer_and_phone
    code = phone.code()
    assert _otp_step(_password_step(customer), code).status_code == 302
    client = _password_step(customer)
    pages = [_otp_step(client, code).content.decode() for _ in range(5)]
    assert all(USED_MESSAGE in page for page in pages[:4])
    # The fifth refusal locks, as for wrong codes: the lock message, not the hint.
    assert USED_MESSAGE not in pages[4]
    assert "ワンタイムパスワードを続けて誤って入力されたため" in pages[4]
