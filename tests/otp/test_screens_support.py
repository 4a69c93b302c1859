"""Helpers for the OTP screen, issue, mail and 利用開始 tests (no tests in here).

A customer is created through the customers service and logs in through the real
login screens; an activated token is made the way the app protocol leaves it: the
seed ‖ signing key sealed with purpose "token-secret", state ``activated``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.customers.models import Customer
from netbank.customers.services import customer_create
from netbank.oath.totp import totp
from netbank.otp import crypto
from netbank.otp.models import Token
from netbank.otp.token_secret import PURPOSE as SEED_PURPOSE
from netbank.otp.token_secret import token_seed

LOGIN_PASSWORD = "Login-pass-1"
TRANSACTION_PASSWORD = "Kakunin-77"
QUESTION = "中学校の時の部活動は何ですか？"
ANSWER = "サッカー部"
QUESTION_2 = "初めて見た映画のタイトルは何ですか？"
ANSWER_2 = "となりのトトロ"
PHONE = "uid1723_6211@phone.example.jp"
ACTIVATION_PASSWORD = "4821"


def make_customer(
    login_id: str = "screens01",
    *,
    email: str = "taro@example.jp",
    two_questions: bool = False,
) -> Customer:
    questions = [(QUESTION, ANSWER)]
    if two_questions:
        questions.append((QUESTION_2, ANSWER_2))
    return customer_create(
        login_id=login_id,
        name_kanji="山田 太郎",
        name_kana="ヤマダ タロウ",
        email=email,
        password=LOGIN_PASSWORD,
        transaction_password=TRANSACTION_PASSWORD,
        questions=questions,
    )


def current_code(token: Token, *, offset_steps: int = 0) -> str:
    token.refresh_from_db()
    return totp(
        token_seed(token),
        clock.timestamp() + offset_steps * token.period,
        period=token.period,
        digits=token.digits,
        algorithm=token.algorithm,
    )


def login(
    customer: Customer, *, client: Client | None = None, token: Token | None = None
) -> Client:
    """Log in through the login screens (and the OTP screen when one is in use)."""
    c = client or Client()
    r = c.post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": LOGIN_PASSWORD}
    )
    assert r.status_code == 302, r.content.decode()[:500]
    if token is not None:
        # One time step later than any code the test used before, so no replay.
        clock.advance(token.period)
        r = c.post(reverse("otp:login_otp"), {"code": current_code(token)})
        assert r.status_code == 302, r.content.decode()[:800]
    else:
        r = c.get(reverse("otp:login_otp"))
    assert redirected_to(r) == reverse("customers:top"), r
    return c


def redirected_to(response: Any) -> str:
    """Where a 302 points, or "" for any other answer."""
    return str(response["Location"]) if response.status_code == 302 else ""


def activate(token: Token) -> bytes:
    """Play the app: store a fresh seed ‖ signing key and mark the token activated."""
    seed = secrets.token_bytes(20)
    sealed = crypto.seal(
        purpose=SEED_PURPOSE,
        token_id=token.pk,
        customer_id=token.customer_id,
        plaintext=seed + secrets.token_bytes(32),
    )
    Token.objects.filter(pk=token.pk).update(
        state=Token.State.ACTIVATED,
        secret_key_id=sealed.key_id,
        secret_nonce=sealed.nonce,
        secret_ciphertext=sealed.ciphertext,
        activated_at=clock.now(),
        activation_key_id="",
        activation_nonce=None,
        activation_ciphertext=None,
    )
    token.refresh_from_db()
    return seed


def input_data(**overrides: str) -> dict[str, str]:
    data = {
        "email": PHONE,
        "activation_password": ACTIVATION_PASSWORD,
        "activation_password_confirm": ACTIVATION_PASSWORD,
    }
    data.update(overrides)
    return data


def confirm_data(**overrides: str) -> dict[str, str]:
    data = {"transaction_password": TRANSACTION_PASSWORD, "answer": ANSWER, "action": "confirm"}
    data.update(overrides)
    return data


def session_blob(client: Client) -> str:
    """Everything the session store holds for this client, as one string."""
    values: dict[str, Any] = dict(client.session.items())
    return repr(values)


def page_text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def field_error(response: Any, field: str) -> str:
    """The message shown next to ``field`` (the <p class="field-error"> after it)."""
    html = response.content.decode()
    m = re.search(rf'id="id_{field}_error"[^>]*>([^<]*)<', html)
    return m.group(1) if m else ""
