"""Registration with a standard authenticator app (otpauth:// QR), where the bank allows it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pyotp
import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from netbank import clock
from netbank.notifications.models import OutboxMail
from netbank.oath.otpauth import b32decode
from netbank.otp.models import Token
from netbank.otp.tokens import services
from tests.otp.test_screens_support import (
    ANSWER,
    confirm_data,
    field_error,
    login,
    make_customer,
    page_text,
    redirected_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _setup_page(c: Client) -> Any:
    r = c.post(reverse("otp:authenticator"), confirm_data())
    assert redirected_to(r) == reverse("otp:authenticator_setup")
    return c.get(reverse("otp:authenticator_setup"))


def _key_from_page(response: Any) -> str:
    m = re.search(r'<code class="otp-key">([A-Z2-7 ]+)</code>', response.content.decode())
    assert m is not None
    return m.group(1).replace(" ", "")


def test_authenticator_registration_shows_qr_and_key_once_then_confirms_with_one_code() -> None:
    customer = make_customer()
    c = login(customer)
    assert reverse("otp:authenticator") in page_text(c.get(reverse("otp:menu")))
    r = c.get(reverse("otp:authenticator"))
    assert r.status_code == 200
    assert "確認用パスワード" in page_text(r)
    assert "softkeyboard.js" in page_text(r)

    r = _setup_page(c)
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    assert 'src="data:image/svg+xml' in r.content.decode()
    key = _key_from_page(r)
    token = Token.objects.get(customer=customer)
    assert token.kind == Token.Kind.AUTHENTICATOR
    assert token.state == Token.State.ACTIVATED  # not counted until a code confirms it
    assert OutboxMail.objects.filter(purpose="otp_issue_notice", to_addr=customer.email).exists()
    assert not OutboxMail.objects.filter(purpose="otp_token_mail").exists()

    # A standard generator (pyotp) from the shown key produces codes the bank accepts.
    totp = pyotp.TOTP(key, digits=token.digits, interval=token.period)
    r = c.post(reverse("otp:authenticator_setup"), {"code": totp.at(clock.now())})
    assert redirected_to(r) == reverse("otp:start_use_done")
    token.refresh_from_db()
    assert token.state == Token.State.IN_USE

    # Never shown again once confirmed.
    r = c.get(reverse("otp:authenticator_setup"))
    assert redirected_to(r) == reverse("otp:menu")
    assert key not in page_text(c.get(reverse("otp:menu")))


def test_otpauth_uri_parses_in_pyotp_and_names_the_user_id_not_the_login_id() -> None:
    customer = make_customer()
    issue = services.token_issue_authenticator(customer=customer, ip=None)
    parsed = pyotp.parse_uri(issue.otpauth_uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.issuer == settings.NETBANK_BANK_NAME
    assert parsed.name == issue.token.user_id
    assert parsed.digits == issue.token.digits
    assert parsed.interval == issue.token.period
    assert customer.login_id not in unquote(issue.otpauth_uri)
    assert len(b32decode(issue.secret_base32)) >= 20  # at least 160 bits


def test_unconfirmed_key_can_be_shown_again_but_expires() -> None:
    customer = make_customer()
    c = login(customer)
    first = _key_from_page(_setup_page(c))
    assert _key_from_page(c.get(reverse("otp:authenticator_setup"))) == first
    clock.advance(24 * 3600 + 1)
    c = login(customer)
    assert redirected_to(c.get(reverse("otp:authenticator_setup"))) == reverse("otp:menu")


def test_wrong_code_keeps_the_key_unconfirmed() -> None:
    customer = make_customer()
    c = login(customer)
    key = _key_from_page(_setup_page(c))
    good = pyotp.TOTP(key).at(clock.now())
    wrong = f"{(int(good) + 1) % 10**6:06d}"
    r = c.post(reverse("otp:authenticator_setup"), {"code": wrong})
    assert r.status_code == 400
    assert "正しくありません" in field_error(r, "code")
    assert Token.objects.get(customer=customer).state == Token.State.ACTIVATED


def test_authenticator_needs_the_same_checks_as_a_token_issue() -> None:
    customer = make_customer()
    c = login(customer)
    r = c.post(reverse("otp:authenticator"), confirm_data(transaction_password="Wrong-1"))
    assert r.status_code == 400
    assert "確認用パスワードが正しくありません" in field_error(r, "transaction_password")
    r = c.post(reverse("otp:authenticator"), confirm_data(answer="野球部"))
    assert r.status_code == 400
    assert "追加認証の回答が正しくありません" in field_error(r, "answer")
    assert not Token.objects.exists()
    r = c.post(reverse("otp:authenticator"), confirm_data(answer=ANSWER))
    assert redirected_to(r) == reverse("otp:authenticator_setup")


@override_settings(NETBANK_OTP={**settings.NETBANK_OTP, "allow_authenticator_apps": False})
def test_authenticator_path_is_closed_when_the_bank_does_not_allow_it() -> None:
    customer = make_customer()
    c = login(customer)
    assert reverse("otp:authenticator") not in page_text(c.get(reverse("otp:menu")))
    assert c.get(reverse("otp:authenticator")).status_code == 404
    assert c.post(reverse("otp:authenticator"), confirm_data()).status_code == 404
    with pytest.raises(services.TokenError):
        services.token_issue_authenticator(customer=customer, ip=None)
    assert not Token.objects.exists()


@override_settings(
    NETBANK_OTP={**settings.NETBANK_OTP, "digits": 8, "period": 60, "algorithm": "SHA256"}
)
def test_authenticator_follows_the_bank_otp_parameters() -> None:
    customer = make_customer()
    issue = services.token_issue_authenticator(customer=customer, ip=None)
    parsed = pyotp.parse_uri(issue.otpauth_uri)
    assert parsed.digits == 8
    assert parsed.interval == 60
    assert "algorithm=SHA256" in issue.otpauth_uri
    code = parsed.at(clock.now())
    assert services.token_start_use(customer=customer, code=code, ip=None).started
