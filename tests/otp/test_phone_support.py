"""Helpers for the smartphone, Direct login and channel API tests (no tests in here).

Customers are made through the customers service and log in through the real login
screens with a smartphone's User-Agent; the token app is played by the real protocol
clients of netbank.token_app.client over Django's test client.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.customers.models import Customer
from netbank.customers.services import customer_create
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import Token
from netbank.token_app.client import (
    ActivatedToken,
    ActivationClient,
    DirectLoginClient,
    totp_now,
)
from tests.otp.factories import BANK_URL, client_transport

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-X910) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
PC_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
IPAD_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)

LOGIN_PASSWORD = "Login-pass-1"
TRANSACTION_PASSWORD = "Kakunin-77"
QUESTION = "初めて見た映画のタイトルは何ですか？"
ANSWER = "となりのトトロ"
PHONE_MAIL = "hanako.phone@mobile.example.jp"
ACTIVATION_PASSWORD = "482913"
SERVICE_ID = "100001"

_serial = itertools.count(1)
_ips = itertools.count(1)


def make_customer(*, questions: bool = True, email: str | None = None) -> Customer:
    n = next(_serial)
    return customer_create(
        login_id=f"phone{n:04d}",
        name_kanji="農協 花子",
        name_kana="ノウキョウ ハナコ",
        email=email or f"hanako{n}@example.jp",
        password=LOGIN_PASSWORD,
        transaction_password=TRANSACTION_PASSWORD,
        questions=[(QUESTION, ANSWER)] if questions else [],
    )


def fresh_ip() -> str:
    """A client address of its own, so the per-IP login throttle never joins tests."""
    n = next(_ips)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


def phone_client(*, ua: str = IPHONE_UA, ip: str | None = None) -> Client:
    return Client(HTTP_USER_AGENT=ua, REMOTE_ADDR=ip or fresh_ip())


def post_password(client: Client, customer: Customer, password: str = LOGIN_PASSWORD) -> Any:
    return client.post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": password}
    )


def phone_login(client: Client, customer: Customer) -> Any:
    """ID and password, then the OTP step's answer (a redirect) for a customer without OTP."""
    r = post_password(client, customer)
    assert r.status_code == 302, r.content.decode()[:500]
    assert r["Location"] == reverse("otp:login_otp")
    return client.get(reverse("otp:login_otp"))


def apply_data(**overrides: str) -> dict[str, str]:
    data = {
        "email": PHONE_MAIL,
        "email_confirm": PHONE_MAIL,
        "activation_password": ACTIVATION_PASSWORD,
        "activation_password_confirm": ACTIVATION_PASSWORD,
        "answer": ANSWER,
        "action": "confirm",
    }
    data.update(overrides)
    return data


def location(response: Any) -> str:
    return str(response["Location"]) if response.status_code in (301, 302, 303) else ""


def page_text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def visible_text(response: Any) -> str:
    """The page's text without its markup, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", "", response.content.decode())
    return re.sub(r"\s+", " ", text)


def activation_client() -> ActivationClient:
    return ActivationClient(
        BANK_URL,
        signing_public_key_text(),
        transport=client_transport(ip=fresh_ip()),
        sleep=lambda _: None,
        clock=clock.timestamp,
    )


def activate(token: Token, password: str = ACTIVATION_PASSWORD) -> ActivatedToken:
    """The app's 初期設定: サービスID, ユーザID and 利用開始パスワード → 送信."""
    return activation_client().activate(SERVICE_ID, token.user_id, password)


def direct_client(ip: str | None = None) -> DirectLoginClient:
    return DirectLoginClient(BANK_URL, transport=client_transport(ip=ip or fresh_ip()))


def app_code(app_token: ActivatedToken) -> str:
    return totp_now(app_token, now=clock.timestamp())


def direct_login(
    app_token: ActivatedToken, customer: Customer, *, password: str = LOGIN_PASSWORD
) -> str:
    """The app's Directログイン; returns the single-use URL."""
    return direct_client().direct_login_with_token(
        app_token, login_id=customer.login_id, password=password, now=clock.timestamp()
    )


def open_url(client: Client, url: str) -> Any:
    """What the browser does with the app's URL (the test client wants the path part)."""
    assert url.startswith(BANK_URL + "/"), url
    return client.get(url[len(BANK_URL) :], secure=True)
