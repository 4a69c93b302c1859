"""Demo data, seeded idempotently by ``netbank demo``.

``SEEDERS`` is the list the demo runs, in order, each in its own transaction. A
seeder creates only what is missing (running the demo twice changes nothing) and
returns lines worth printing under the credentials table. Other apps add theirs
here (accounts and balances, a token in use …) and read ``DEMO_CUSTOMERS`` to
find the customers to attach to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from netbank.customers.models import Customer
from netbank.customers.questions import SECRET_QUESTIONS
from netbank.customers.services import customer_create

# The two questions the leaflet shows, and one more from the bank's list.
Q_CLUB, Q_FILM, Q_NICKNAME = SECRET_QUESTIONS[0], SECRET_QUESTIONS[1], SECRET_QUESTIONS[2]


@dataclass(frozen=True)
class DemoCustomer:
    login_id: str
    password: str
    transaction_password: str  # 確認用パスワード
    name_kanji: str
    name_kana: str
    email: str
    questions: tuple[tuple[str, str], ...]


# Demo-only credentials, printed by `netbank demo` and listed in the README.
DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer(
        login_id="demo0001",
        password="sakura2026",  # noqa: S106 - public demo credential
        transaction_password="kakunin01",  # noqa: S106 - public demo credential
        name_kanji="山田 太郎",
        name_kana="ヤマダ タロウ",
        email="taro.yamada@example.jp",
        questions=((Q_CLUB, "サッカー部"), (Q_FILM, "となりのトトロ"), (Q_NICKNAME, "たろちゃん")),
    ),
    DemoCustomer(
        login_id="demo0002",
        password="momiji2026",  # noqa: S106 - public demo credential
        transaction_password="kakunin02",  # noqa: S106 - public demo credential
        name_kanji="佐藤 花子",
        name_kana="サトウ ハナコ",
        email="hanako.sato@example.jp",
        questions=((Q_CLUB, "吹奏楽部"), (Q_FILM, "ローマの休日")),
    ),
)

Seeder = Callable[[], list[str]]


def seed_customers() -> list[str]:
    """The demo customers with their passwords and 追加認証 questions."""
    created = []
    for demo in DEMO_CUSTOMERS:
        if Customer.objects.filter(login_id=demo.login_id).exists():
            continue
        customer_create(
            login_id=demo.login_id,
            name_kanji=demo.name_kanji,
            name_kana=demo.name_kana,
            email=demo.email,
            password=demo.password,
            transaction_password=demo.transaction_password,
            questions=list(demo.questions),
        )
        created.append(demo.login_id)
    return [f"顧客を作成しました / customers created: {', '.join(created)}"] if created else []


SEEDERS: list[Seeder] = [seed_customers]


def seed_all() -> list[str]:
    """Run every seeder; each one commits on its own so a failure names its seeder."""
    lines: list[str] = []
    for seeder in SEEDERS:
        with transaction.atomic():
            lines.extend(seeder())
    return lines
