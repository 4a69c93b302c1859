"""Accounts, money and tokens for banking tests, made through the real services."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.banking.destination import Destination
from netbank.banking.ledger import Line, account_open, clearing_account, ledger_post
from netbank.banking.models import Account, AccountType, JournalEntry, SigningChallenge
from netbank.customers.models import Customer
from netbank.oath.totp import totp
from netbank.otp import crypto
from netbank.otp.models import Token
from netbank.otp.token_secret import PURPOSE as SEED_PURPOSE
from netbank.otp.token_secret import token_seed
from netbank.token_app.signing import sign_question
from tests.customers.factories import PASSWORD, TRANSACTION_PASSWORD, make_customer

__all__ = ["PASSWORD", "TRANSACTION_PASSWORD"]

OTHER_BANK = "0005"


def open_account(
    customer: Customer, *, balance: int = 0, account_type: str = AccountType.ORDINARY
) -> Account:
    account = account_open(customer=customer, account_type=account_type, holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ")
    if balance:
        deposit(account, balance)
    account.refresh_from_db()
    return account


def deposit(account: Account, amount: int, *, memo: str = "振込 ｷﾕｳﾖ") -> None:
    """Money arriving from another bank (through the clearing account)."""
    with transaction.atomic():
        ledger_post(
            kind=JournalEntry.Kind.INCOMING,
            lines=[
                Line(clearing_account().pk, -amount, memo),
                Line(account.pk, amount, memo),
            ],
        )


def customer_with_account(balance: int = 500_000) -> tuple[Customer, Account]:
    customer = make_customer()
    return customer, open_account(customer, balance=balance)


def issue_token(
    customer: Customer,
    *,
    kind: str = Token.Kind.APP,
    created_at: datetime | None = None,
) -> tuple[Token, bytes]:
    """An in-use token with a sealed seed ‖ signing key; returns it and the signing key."""
    created = created_at or clock.now() - timedelta(days=30)
    token = Token.objects.create(
        customer=customer,
        user_id=f"{secrets.randbelow(10**12):012d}",
        kind=kind,
        state=Token.State.IN_USE,
        email=customer.email,
        created_at=created,
        expires_at=created + timedelta(days=1),
        activated_at=created,
        in_use_at=created,
    )
    seed = secrets.token_bytes(20)
    signing_key = secrets.token_bytes(32)
    # Authenticator tokens carry a signing key too (no app holds it, so it never signs).
    sealed = crypto.seal(
        purpose=SEED_PURPOSE,
        token_id=token.pk,
        customer_id=customer.pk,
        plaintext=seed + signing_key,
    )
    token.secret_key_id = sealed.key_id
    token.secret_nonce = sealed.nonce
    token.secret_ciphertext = sealed.ciphertext
    token.save()
    return token, signing_key


def current_otp(token: Token) -> str:
    token.refresh_from_db()
    return totp(
        token_seed(token),
        clock.timestamp(),
        period=token.period,
        digits=token.digits,
        algorithm=token.algorithm,
    )


def login(customer: Customer, token: Token | None = None) -> Client:
    """Log in through the real login screens (and the OTP screen with a token)."""
    client = Client()
    r = client.post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": PASSWORD}
    )
    assert r.status_code == 302, r.content.decode()[:500]
    if token is not None:
        r = client.post(reverse("otp:login_otp"), {"code": current_otp(token)})
    else:
        r = client.get(reverse("otp:login_otp"))
    assert r.status_code == 302, r.content.decode()[:500]
    assert r["Location"] == reverse("customers:top")
    return client


def other_bank(
    account_number: str = "7654321", name: str = "ｽｽﾞｷ ﾊﾅｺ", branch: str = "123"
) -> Destination:
    return Destination(
        bank_code=OTHER_BANK,
        branch_code=branch,
        account_type=AccountType.ORDINARY,
        account_number=account_number,
        name_kana=name,
    )


def sign(challenge: SigningChallenge, key: bytes) -> str:
    """What the token app answers for this challenge."""
    return sign_question(key, challenge.challenge)
