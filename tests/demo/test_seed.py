"""Demo data: valid customers, created once however often the demo starts."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from netbank.customers.models import Customer, SecretQuestion
from netbank.customers.validators import normalize_answer
from netbank.demo.seed import DEMO_CUSTOMERS, SEEDERS, seed_all, seed_customers

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple[object, ...]]:
    customers = Customer.objects.order_by("pk").values_list(
        "pk", "login_id", "password_hash", "transaction_password_hash", "email"
    )
    questions = SecretQuestion.objects.order_by("pk").values_list(
        "pk", "customer_id", "position", "question", "answer_hash"
    )
    return [*customers, *questions]


def test_seed_is_idempotent() -> None:
    first_notes = seed_all()
    first = _snapshot()

    second_notes = seed_all()

    assert _snapshot() == first
    assert first_notes != []
    assert second_notes == []
    assert Customer.objects.count() == len(DEMO_CUSTOMERS)


def test_seed_creates_only_the_missing_customers() -> None:
    seed_all()
    Customer.objects.filter(login_id=DEMO_CUSTOMERS[1].login_id).delete()
    kept = Customer.objects.get(login_id=DEMO_CUSTOMERS[0].login_id)

    notes = seed_all()

    assert notes == [f"顧客を作成しました / customers created: {DEMO_CUSTOMERS[1].login_id}"]
    assert Customer.objects.get(login_id=DEMO_CUSTOMERS[0].login_id).pk == kept.pk
    assert Customer.objects.count() == len(DEMO_CUSTOMERS)


def test_customer_seeder_is_first_so_later_seeders_find_the_customers() -> None:
    assert SEEDERS[0] is seed_customers


def test_demo_customers_have_what_the_leaflet_flows_need() -> None:
    seed_all()
    assert len(DEMO_CUSTOMERS) >= 2
    for demo in DEMO_CUSTOMERS:
        customer = Customer.objects.get(login_id=demo.login_id)
        assert customer.name_kanji == demo.name_kanji
        assert customer.name_kana == demo.name_kana
        assert customer.email.endswith("@example.jp")
        assert check_password(demo.password, customer.password_hash)
        assert check_password(demo.transaction_password, customer.transaction_password_hash)
        questions = list(customer.questions.all())
        assert 2 <= len(questions) <= 3
        for stored, (question, answer) in zip(questions, demo.questions, strict=True):
            assert stored.question == question
            assert check_password(normalize_answer(answer), stored.answer_hash)


def test_printed_demo_credentials_log_in() -> None:
    seed_all()
    demo = DEMO_CUSTOMERS[0]
    client = Client()

    response = client.post("/", {"login_id": demo.login_id, "password": demo.password}, follow=True)

    assert response.status_code == 200
    assert demo.name_kanji in response.content.decode()
