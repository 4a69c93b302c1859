"""Customers for tests, made through the real service (real Argon2 hashes, test cost)."""

from __future__ import annotations

import itertools

from netbank.customers.models import Customer
from netbank.customers.services import customer_create

PASSWORD = "Passw0rd2026"
TRANSACTION_PASSWORD = "Kakunin789"
QUESTIONS = [
    ("中学校の時の部活動は何ですか？", "サッカー部"),
    ("初めて見た映画のタイトルは何ですか？", "となりのトトロ"),
]

_serial = itertools.count(1)


def make_customer(
    *,
    login_id: str | None = None,
    password: str = PASSWORD,
    transaction_password: str = TRANSACTION_PASSWORD,
    questions: list[tuple[str, str]] | None = None,
    email: str | None = None,
) -> Customer:
    n = next(_serial)
    return customer_create(
        login_id=login_id or f"cust{n:04d}",
        name_kanji="山田 太郎",
        name_kana="ヤマダ タロウ",
        email=email or f"customer{n}@example.jp",
        password=password,
        transaction_password=transaction_password,
        questions=QUESTIONS if questions is None else questions,
    )
