"""利用解除 behind the 確認用パスワード."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from netbank.customers import lockout
from netbank.customers.models import FailureCounter
from netbank.otp.models import Token
from netbank.otp.tokens import selectors, services
from tests.otp.test_screens_support import (
    ACTIVATION_PASSWORD,
    LOGIN_PASSWORD,
    PHONE,
    TRANSACTION_PASSWORD,
    activate,
    current_code,
    field_error,
    login,
    make_customer,
    page_text,
    redirected_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _customer_with_token() -> tuple[Client, Token]:
    customer = make_customer()
    token = services.token_issue(
        customer=customer, email=PHONE, activation_password=ACTIVATION_PASSWORD, ip=None
    )
    activate(token)
    assert services.token_start_use(customer=customer, code=current_code(token), ip=None).started
    token.refresh_from_db()
    return login(customer, token=token), token


def test_cancel_revokes_the_token_and_login_no_longer_asks_for_the_otp() -> None:
    c, token = _customer_with_token()
    r = c.get(reverse("otp:cancel"))
    text = page_text(r)
    assert "利用解除（確認）" in text
    assert "softkeyboard.js" in text
    r = c.post(
        reverse("otp:cancel"),
        {"transaction_password": TRANSACTION_PASSWORD, "action": "confirm"},
    )
    assert redirected_to(r) == reverse("otp:cancel_done")
    assert "利用解除（完了）" in page_text(c.get(reverse("otp:cancel_done")))
    token.refresh_from_db()
    assert token.state == Token.State.REVOKED
    assert not token.secret_ciphertext
    assert not selectors.otp_required(token.customer)
    fresh = Client()
    r = fresh.post(
        reverse("customers:login"),
        {"login_id": token.customer.login_id, "password": LOGIN_PASSWORD},
    )
    r = fresh.get(reverse("otp:login_otp"))
    assert redirected_to(r) == reverse("customers:top")


def test_wrong_password_refuses_cancel_and_counts() -> None:
    c, token = _customer_with_token()
    r = c.post(reverse("otp:cancel"), {"transaction_password": "Wrong-1", "action": "confirm"})
    assert r.status_code == 400
    assert "確認用パスワードが正しくありません" in field_error(r, "transaction_password")
    token.refresh_from_db()
    assert token.state == Token.State.IN_USE
    counter = FailureCounter.objects.get(
        kind=lockout.TRANSACTION_PASSWORD,
        subject=lockout.subject_for_customer(token.customer),
    )
    assert counter.consecutive_failures == 1


def test_back_keeps_the_token() -> None:
    c, token = _customer_with_token()
    r = c.post(reverse("otp:cancel"), {"action": "back"})
    assert redirected_to(r) == reverse("otp:menu")
    token.refresh_from_db()
    assert token.state == Token.State.IN_USE


def test_cancel_without_a_token_goes_back_to_the_menu() -> None:
    c = login(make_customer())
    assert redirected_to(c.get(reverse("otp:cancel"))) == reverse("otp:menu")


def test_cancel_is_refused_when_the_bank_makes_otp_mandatory() -> None:
    c, token = _customer_with_token()
    with override_settings(NETBANK_OTP={**settings.NETBANK_OTP, "mandatory": True}):
        assert reverse("otp:cancel") not in page_text(c.get(reverse("otp:menu")))
        r = c.post(
            reverse("otp:cancel"),
            {"transaction_password": TRANSACTION_PASSWORD, "action": "confirm"},
        )
        assert r.status_code == 400
        assert "利用解除はできません" in page_text(r)
        with pytest.raises(services.TokenError):
            services.token_cancel(customer=token.customer, ip=None)
    token.refresh_from_db()
    assert token.state == Token.State.IN_USE
