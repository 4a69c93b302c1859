"""Operators, customers and their sessions for the helpdesk tests, made through the
real services and screens (real Argon2 at test cost, real sealing, real TOTP)."""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from netbank import clock
from netbank.banking.destination import Destination
from netbank.banking.ledger import Line, account_open, clearing_account, ledger_post
from netbank.banking.models import Account, AccountType, JournalEntry
from netbank.customers.models import Customer
from netbank.helpdesk.operators import operator_create
from netbank.helpdesk.services import IdentityCheckInput
from netbank.otp.models import Token
from tests.customers.factories import PASSWORD, make_customer
from tests.otp.factories import in_use_token, issue_token

__all__ = ["PASSWORD", "in_use_token", "issue_token", "make_customer"]

OPERATOR_PASSWORD = "Helpdesk-Pass-2026"
_serial = itertools.count(1)


@dataclass
class Operator:
    user: User
    seed_base32: str

    def code(self) -> str:
        """The code the operator's authenticator shows now (pyotp, independent of ours)."""
        return pyotp.TOTP(self.seed_base32).at(clock.now())


def make_operator(role: str = "operator", *, username: str | None = None) -> Operator:
    name = username or f"{role[:3]}{next(_serial):03d}"
    enrolment = operator_create(
        username=name, password=OPERATOR_PASSWORD, role=role, full_name=f"{role} {name}"
    )
    return Operator(enrolment.user, enrolment.secret_base32)


def operator_login(operator: Operator, client: Client | None = None) -> Client:
    """Log the operator in through /helpdesk/login/. Moves the pinned clock one OTP step
    first, so two logins of one operator never reuse a code (the replay guard)."""
    clock.advance(30)
    client = client or Client(REMOTE_ADDR="192.0.2.10")
    r = client.post(
        "/helpdesk/login/",
        {
            "username": operator.user.username,
            "password": OPERATOR_PASSWORD,
            "code": operator.code(),
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert r["Location"] == "/helpdesk/"
    return client


def customer_login(customer: Customer, client: Client | None = None) -> Client:
    """Log a customer without OTP in through the real screens."""
    client = client or Client(REMOTE_ADDR="198.51.100.20")
    r = client.post("/", {"login_id": customer.login_id, "password": PASSWORD})
    assert r.status_code == 302, r.content.decode()[:2000]
    r = client.get("/login/otp/")
    assert r.status_code == 302
    assert r["Location"] == "/top/"
    return client


def customer_logged_in(client: Client) -> bool:
    r = client.get("/top/")
    return r.status_code == 200


def verified_check(**overrides: object) -> IdentityCheckInput:
    values: dict[str, object] = {
        "method": "callback",
        "items": ["name_birthdate", "address"],
        "result": "verified",
        "note": "登録電話番号へ折り返し、氏名・生年月日と住所を確認",
    }
    values.update(overrides)
    return IdentityCheckInput(**values)  # type: ignore[arg-type]


def identity_post(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    """The identity-check part of a console form, filled in as an operator would."""
    data: dict[str, str | list[str]] = {
        "method": "callback",
        "items": ["name_birthdate", "address"],
        "result": "verified",
        "note": "登録電話番号へ折り返し、氏名・生年月日と住所を確認",
        "reason": "お客さまからの電話による依頼",
    }
    data.update(overrides)
    return data


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def account_for(customer: Customer, balance: int = 500_000) -> Account:
    account = account_open(
        customer=customer, account_type=AccountType.ORDINARY, holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ"
    )
    if balance:
        with transaction.atomic():
            ledger_post(
                kind=JournalEntry.Kind.INCOMING,
                lines=[
                    Line(clearing_account().pk, -balance, "入金"),
                    Line(account.pk, balance, "入金"),
                ],
            )
    account.refresh_from_db()
    return account


def other_bank() -> Destination:
    return Destination(
        bank_code="0005",
        branch_code="123",
        account_type=AccountType.ORDINARY,
        account_number="7654321",
        name_kana="ｽｽﾞｷ ﾊﾅｺ",
    )


def new_key() -> str:
    return secrets.token_urlsafe(32)


def token_states(customer: Customer) -> dict[int, str]:
    return dict(Token.objects.filter(customer=customer).values_list("pk", "state"))


def days(n: int) -> timedelta:
    return timedelta(days=n)
