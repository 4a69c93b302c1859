"""The token app's fetch of the pending 取引認証 question: only with the token's key."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from netbank import clock
from netbank.banking.models import SigningChallenge
from netbank.banking.signing import signing_challenge
from netbank.banking.transfers import furikomi_order, transfer_execute
from netbank.otp.models import Token
from netbank.token_app.signing import (
    PENDING_PATH,
    describe_question,
    pending_request,
    sign_question,
)
from tests.banking.factories import customer_with_account, issue_token, other_bank

pytestmark = pytest.mark.django_db


def post(body: object) -> tuple[int, dict[str, object]]:
    r = Client().post(PENDING_PATH, data=json.dumps(body), content_type="application/json")
    assert r["Cache-Control"] == "no-store"
    return r.status_code, r.json()


def body(key: bytes, token: Token, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {}
    data |= pending_request(
        key,
        service_id=str(settings.NETBANK_OTP["service_id"]),
        user_id=token.user_id,
        time=int(clock.timestamp()),
    )
    data.update(overrides)
    return data


def test_app_fetches_signs_and_the_bank_accepts_the_pending_question() -> None:
    customer, src = customer_with_account(100_000)
    token, key = issue_token(customer)
    assert post(body(key, token)) == (200, {"pending": False})
    order = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=4_321, destination=other_bank()
    )
    challenge = signing_challenge(
        customer=customer,
        purpose=SigningChallenge.Purpose.TRANSFER,
        destination=order.destination,
        amount=order.amount,
        debit_account=src,
    )
    status, answer = post(body(key, token))
    assert status == 200
    assert answer["pending"] is True
    assert answer["suite"] == "OCRA-1:HOTP-SHA256-8:QN54"
    question = str(answer["question"])
    shown = describe_question(question)  # what the app shows before signing
    assert (shown.account_number, shown.amount) == ("7654321", 4_321)
    assert (shown.debit_branch_code, shown.debit_account_number) == (
        src.branch_code,
        src.account_number,
    )
    assert shown.scheduled_for is None
    transfer_execute(
        customer=customer,
        order=order,
        idempotency_key="k" * 43,
        challenge_id=challenge.pk,
        signing_code=sign_question(key, question),
    )
    assert post(body(key, token)) == (200, {"pending": False})  # consumed


@pytest.mark.parametrize(
    "change",
    [
        {"mac": "AAAA"},
        {"time": str(10**9)},  # 2001: far outside the clock window
        {"service_id": "999999"},
        {"user_id": "000000000000"},
        {"user_id": "１２３"},
    ],
)
def test_anything_but_the_tokens_own_mac_gets_one_generic_401(change: dict[str, str]) -> None:
    customer, _src = customer_with_account(1)
    token, key = issue_token(customer)
    status, answer = post(body(key, token, **change))
    assert status == 401
    assert answer["error"]["code"] == "unauthorized"  # type: ignore[index]


def test_another_tokens_key_cannot_read_this_customers_question() -> None:
    victim, _ = customer_with_account(1)
    vtoken, _vkey = issue_token(victim)
    other, _ = customer_with_account(1)
    _otoken, okey = issue_token(other)
    status, _answer = post(body(okey, vtoken))
    assert status == 401


def test_authenticator_tokens_have_no_signing_channel() -> None:
    customer, _ = customer_with_account(1)
    token, key = issue_token(customer, kind=Token.Kind.AUTHENTICATOR)
    assert post(body(key, token))[0] == 401


@pytest.mark.parametrize("raw", ["", "[]", "{", '{"user_id": 1}', '{"extra": "x"}'])
def test_malformed_requests_get_json_errors(raw: str) -> None:
    r = Client().post(PENDING_PATH, data=raw, content_type="application/json")
    assert r.status_code in (400, 415)  # an empty body arrives without a content type
    assert "error" in r.json()
    assert Client().get(PENDING_PATH).status_code == 405


def test_a_401_names_the_mac_scheme_not_a_bearer_key() -> None:
    customer, _src = customer_with_account(1)
    token, key = issue_token(customer)
    r = Client().post(
        PENDING_PATH, data=json.dumps(body(key, token, mac="AAAA")), content_type="application/json"
    )
    assert r.status_code == 401
    assert r["WWW-Authenticate"] == 'NetBank-Signing-MAC realm="netbank"'


def test_a_mac_under_the_undivided_key_or_the_ocra_subkey_is_refused() -> None:
    """The pending-question MAC has its own HKDF subkey: neither the stored key itself
    (the old scheme) nor the OCRA subkey authenticates a fetch."""
    import base64
    import hashlib
    import hmac

    from netbank.oath.txsign import ocra_key, pending_mac_message

    customer, _src = customer_with_account(1)
    token, key = issue_token(customer)
    fields = {
        "service_id": str(settings.NETBANK_OTP["service_id"]),
        "user_id": token.user_id,
        "time": str(int(clock.timestamp())),
    }
    for wrong_key in (key, ocra_key(key)):
        for context in (b"netbank-signing-pending/1\x00", b"netbank-signing-pending/2\x00"):
            message = context + pending_mac_message(**fields).split(b"\x00", 1)[1]
            mac = hmac.new(wrong_key, message, hashlib.sha256).digest()
            text = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
            assert post(fields | {"mac": text})[0] == 401
    assert post(body(key, token))[0] == 200


def test_the_bank_refuses_a_code_made_with_the_undivided_signing_key() -> None:
    """OCRA codes are made with the OCRA subkey; one made with the stored key is wrong."""
    from netbank.banking.signing import SUITE, signing_verify
    from netbank.oath.ocra import ocra

    customer, src = customer_with_account(100_000)
    _token, key = issue_token(customer)
    order = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=4_321, destination=other_bank()
    )
    challenge = signing_challenge(
        customer=customer,
        purpose=SigningChallenge.Purpose.TRANSFER,
        destination=order.destination,
        amount=order.amount,
        debit_account=src,
    )
    outcome = signing_verify(
        customer=customer,
        challenge_id=challenge.pk,
        purpose=SigningChallenge.Purpose.TRANSFER,
        code=ocra(SUITE, key, question=challenge.challenge),
        destination=order.destination,
        amount=order.amount,
        debit_account=src,
    )
    assert not outcome.accepted


def test_a_format_1_challenge_left_from_before_the_upgrade_is_expired_not_counted() -> None:
    """A 36-digit question issued by the previous version is neither served to the app
    nor checked: the customer is asked to start again, and nothing is counted."""
    from netbank.banking.signing import EXPIRED_MESSAGE, signing_verify
    from tests.banking.test_transfers import signing_failures

    customer, src = customer_with_account(100_000)
    token, key = issue_token(customer)
    order = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=4_321, destination=other_bank()
    )
    challenge = signing_challenge(
        customer=customer,
        purpose=SigningChallenge.Purpose.TRANSFER,
        destination=order.destination,
        amount=order.amount,
        debit_account=src,
    )
    old = "1" + challenge.challenge[1:28] + challenge.challenge[-8:]  # format 1: 36 digits
    SigningChallenge.objects.filter(pk=challenge.pk).update(challenge=old)
    assert post(body(key, token)) == (200, {"pending": False})
    outcome = signing_verify(
        customer=customer,
        challenge_id=challenge.pk,
        purpose=SigningChallenge.Purpose.TRANSFER,
        code="12345678",
        destination=order.destination,
        amount=order.amount,
        debit_account=src,
    )
    assert (outcome.accepted, outcome.message) == (False, EXPIRED_MESSAGE)
    assert signing_failures(customer) == 0
