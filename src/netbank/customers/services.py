"""Customer services: creating customers and checking their credentials."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils.translation import gettext as _

from netbank import clock
from netbank.audit.services import record
from netbank.customers.models import Customer, SecretQuestion


@dataclass(frozen=True)
class LoginOutcome:
    customer: Customer | None
    message: str = ""


def customer_create(
    *,
    login_id: str,
    name_kanji: str,
    name_kana: str,
    email: str,
    password: str,
    transaction_password: str,
    questions: list[tuple[str, str]] | None = None,
) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.create(
            login_id=login_id,
            name_kanji=name_kanji,
            name_kana=name_kana,
            email=email,
            password_hash=make_password(password),
            transaction_password_hash=make_password(transaction_password),
            created_at=clock.now(),
        )
        for position, (question, answer) in enumerate(questions or [], start=1):
            SecretQuestion.objects.create(
                customer=customer,
                position=position,
                question=question,
                answer_hash=make_password(answer),
            )
        record("customer.created", customer_id=customer.pk)
    return customer


def login_check_password(*, login_id: str, password: str, ip: str | None) -> LoginOutcome:
    customer = Customer.objects.filter(login_id=login_id).first()
    ok = customer is not None and check_password(password, customer.password_hash)
    if customer is None or not ok:
        return LoginOutcome(None, _("ログインIDまたはログインパスワードが正しくありません。"))
    return LoginOutcome(customer)
