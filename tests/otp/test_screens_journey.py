"""The leaflet's PC journey end to end, with the real app protocol playing the phone:
申請内容選択 → トークン発行（入力）→（確認）→（完了）→ the token mail → the app's
初期設定 (サービスID, ユーザID, 利用開始パスワード → 送信) → ワンタイムパスワード利用開始
→ logout → a login that demands and accepts the OTP."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.notifications.models import OutboxMail
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import Token
from netbank.token_app.client import ActivationClient, ActivationRefusedError, totp_now
from tests.otp.factories import BANK_URL, client_transport
from tests.otp.test_screens_support import (
    LOGIN_PASSWORD,
    PHONE,
    confirm_data,
    input_data,
    login,
    make_customer,
    page_text,
    redirected_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _app() -> ActivationClient:
    return ActivationClient(
        BANK_URL,
        signing_public_key_text(),
        transport=client_transport(),
        sleep=lambda _: None,
        clock=clock.timestamp,
    )


def _ids_from_mail(body: str) -> tuple[str, str]:
    service = re.search(r"サービスID: (\S+)", body)
    user = re.search(r"ユーザID: (\d{12})", body)
    assert service is not None
    assert user is not None
    return service.group(1), user.group(1)


def test_pc_journey_from_menu_to_an_otp_login() -> None:
    customer = make_customer()
    c = login(customer)
    assert reverse("otp:menu") in page_text(c.get(reverse("customers:procedures")))
    c.get(reverse("otp:menu"))
    password = "582014"
    r = c.post(
        reverse("otp:issue"),
        input_data(activation_password=password, activation_password_confirm=password),
    )
    assert redirected_to(r) == reverse("otp:issue_confirm")
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert redirected_to(r) == reverse("otp:issue_done")

    mail = OutboxMail.objects.get(purpose="otp_token_mail")
    assert mail.to_addr == PHONE
    service_id, user_id = _ids_from_mail(mail.body)

    # The phone: the app's 初期設定 with the IDs from the mail and the password.
    app_token = _app().activate(service_id, user_id, password)
    token = Token.objects.get(user_id=user_id)
    assert token.state == Token.State.ACTIVATED

    # Back on the PC: ワンタイムパスワード利用開始 with the code the app shows.
    clock.advance(token.period)
    r = c.post(reverse("otp:start_use"), {"code": totp_now(app_token, now=clock.timestamp())})
    assert redirected_to(r) == reverse("otp:start_use_done")
    assert "以降、ログインの際ワンタイムパスワードの入力が必要です" in page_text(
        c.get(reverse("otp:start_use_done"))
    )

    c.post(reverse("customers:logout"))
    fresh = Client()
    r = fresh.post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": LOGIN_PASSWORD}
    )
    assert redirected_to(r) == reverse("otp:login_otp")
    assert "ワンタイムパスワード認証" in page_text(fresh.get(reverse("otp:login_otp")))
    assert redirected_to(fresh.get(reverse("customers:top"))).startswith(reverse("customers:login"))
    clock.advance(token.period)
    r = fresh.post(reverse("otp:login_otp"), {"code": totp_now(app_token, now=clock.timestamp())})
    assert redirected_to(r) == reverse("customers:top")


def test_the_app_cannot_activate_with_a_wrong_activation_password() -> None:
    customer = make_customer()
    c = login(customer)
    c.post(reverse("otp:issue"), input_data())
    c.post(reverse("otp:issue_confirm"), confirm_data())
    service_id, user_id = _ids_from_mail(OutboxMail.objects.get(purpose="otp_token_mail").body)
    with pytest.raises(ActivationRefusedError):
        _app().activate(service_id, user_id, "999999")
    assert Token.objects.get(user_id=user_id).state == Token.State.ISSUED


def test_a_reissue_voids_the_pending_issue_for_the_app() -> None:
    customer = make_customer()
    c = login(customer)
    c.post(reverse("otp:issue"), input_data())
    c.post(reverse("otp:issue_confirm"), confirm_data())
    first_mail = OutboxMail.objects.get(purpose="otp_token_mail")
    service_id, first_user_id = _ids_from_mail(first_mail.body)
    c.post(reverse("otp:issue"), input_data(email="second@phone.example.jp"))
    c.post(reverse("otp:issue_confirm"), confirm_data())
    with pytest.raises(ActivationRefusedError):
        _app().activate(service_id, first_user_id, "4821")
    assert Token.objects.get(user_id=first_user_id).state == Token.State.VOIDED
