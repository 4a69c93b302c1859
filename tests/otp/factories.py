"""Tokens for the activation and verification tests.

``issue_token`` leaves a token exactly as ``otp.tokens.services.token_issue`` does: a random
12-digit ユーザID, state ``issued``, ``expires_at`` = now + the issue TTL (24 h), and the
利用開始パスワード sealed as its ASCII digits with purpose "activation-password".
``in_use_token`` leaves one as activation + 利用開始 do: seed ‖ 32-byte signing key
sealed with purpose "token-secret".
"""

from __future__ import annotations

import itertools
import secrets
from datetime import timedelta

from django.conf import settings
from django.test import Client

from netbank import clock
from netbank.customers.models import Customer
from netbank.customers.services import customer_create
from netbank.otp import crypto
from netbank.otp.activation.services import ACTIVATION_PASSWORD_PURPOSE
from netbank.otp.models import Token
from netbank.otp.token_secret import PURPOSE as SEED_PURPOSE
from netbank.token_app.client import Transport

BANK_URL = "https://testserver"
ACTIVATION_PASSWORD = "4821"
SEED = bytes(range(1, 21))  # 20 bytes for SHA1
SIGNING_KEY = bytes(range(100, 132))

_serial = itertools.count(1)


def make_customer(*, email: str | None = None) -> Customer:
    n = next(_serial)
    return customer_create(
        login_id=f"proto{n:04d}",
        name_kanji="佐藤 花子",
        name_kana="サトウ ハナコ",
        email=email or f"hanako{n}@example.jp",
        password="Login-pass-1",
        transaction_password="Kakunin-77",
        questions=[("中学校の時の部活動は何ですか？", "吹奏楽部")],
    )


def _user_id() -> str:
    return str(10**11 + secrets.randbelow(9 * 10**11))


def _token(customer: Customer, *, state: str, **fields: object) -> Token:
    opts = settings.NETBANK_OTP
    now = clock.now()
    values: dict[str, object] = {
        "algorithm": str(opts["algorithm"]),
        "digits": int(opts["digits"]),
        "period": int(opts["period"]),
        "created_at": now,
        "expires_at": now + timedelta(seconds=int(opts["issue_ttl_seconds"])),
    }
    values.update(fields)
    return Token.objects.create(
        customer=customer,
        user_id=_user_id(),
        state=state,
        email="phone@example.jp",
        **values,
    )


def issue_token(
    customer: Customer | None = None,
    *,
    activation_password: str = ACTIVATION_PASSWORD,
    **fields: object,
) -> Token:
    """A token waiting for its app, as token_issue leaves it."""
    token = _token(customer or make_customer(), state=Token.State.ISSUED, **fields)
    sealed = crypto.seal(
        purpose=ACTIVATION_PASSWORD_PURPOSE,
        token_id=token.pk,
        customer_id=token.customer_id,
        plaintext=activation_password.encode("ascii"),
    )
    token.activation_key_id = sealed.key_id
    token.activation_nonce = sealed.nonce
    token.activation_ciphertext = sealed.ciphertext
    token.save()
    return token


def in_use_token(
    customer: Customer | None = None,
    *,
    seed: bytes = SEED,
    signing_key: bytes = SIGNING_KEY,
    state: str = Token.State.IN_USE,
    **fields: object,
) -> Token:
    """A token whose app holds ``seed``, in use (OTP required at login)."""
    now = clock.now()
    token = _token(
        customer or make_customer(),
        state=state,
        activated_at=now,
        in_use_at=now if state == Token.State.IN_USE else None,
        **fields,
    )
    sealed = crypto.seal(
        purpose=SEED_PURPOSE,
        token_id=token.pk,
        customer_id=token.customer_id,
        plaintext=seed + signing_key,
    )
    token.secret_key_id = sealed.key_id
    token.secret_nonce = sealed.nonce
    token.secret_ciphertext = sealed.ciphertext
    token.save()
    return token


def client_transport(client: Client | None = None, *, ip: str = "203.0.113.7") -> Transport:
    """The token app's transport, served by Django's test client (same thread, same DB)."""
    django_client = client or Client(REMOTE_ADDR=ip)
    prefix = BANK_URL

    def send(url: str, body: bytes) -> tuple[int, bytes]:
        assert url.startswith(prefix), url
        response = django_client.generic(
            "POST", url[len(prefix) :], body, content_type="application/json", secure=True
        )
        return response.status_code, response.content

    return send
