"""追加認証の質問の登録・変更: behind the 確認用パスワード; bad input changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.test import Client

from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter, SecretQuestion
from netbank.customers.services import secret_question_pick
from netbank.notifications.models import OutboxMail
from tests.customers.factories import TRANSACTION_PASSWORD, make_customer
from tests.customers.support import counting_hasher, log_in

pytestmark = pytest.mark.django_db

URL = "/procedures/secret-questions/"
Q1, Q2, Q3 = (
    "中学校の時の部活動は何ですか？",
    "初めて見た映画のタイトルは何ですか？",
    "子供の頃のあだ名は何ですか？",
)


@pytest.fixture
def customer() -> Customer:
    return make_customer()


@pytest.fixture
def client(customer: Customer, frozen_clock: datetime) -> Client:
    c = Client()
    log_in(c, customer.login_id)
    return c


def _form(**overrides: str) -> dict[str, Any]:
    data = {
        "question_1": Q1,
        "answer_1": "",
        "question_2": Q2,
        "answer_2": "",
        "question_3": "",
        "answer_3": "",
        "transaction_password": TRANSACTION_PASSWORD,
    }
    data.update(overrides)
    return data


def _snapshot(customer: Customer) -> list[tuple[int, str, str]]:
    return list(
        SecretQuestion.objects.filter(customer=customer).values_list(
            "position", "question", "answer_hash"
        )
    )


def test_the_screen_needs_a_logged_in_customer(frozen_clock: datetime) -> None:
    r = Client().get(URL)
    assert r.status_code == 302
    assert r["Location"] == "/"


def test_the_screen_is_reached_from_procedures_and_shows_current_questions(
    client: Client,
) -> None:
    procedures = client.get("/procedures/").content.decode()
    assert f'href="{URL}"' in procedures
    assert 'href="/procedures/otp/"' in procedures
    page = client.get(URL).content.decode()
    assert f'<option value="{Q1}" selected>' in page
    assert f'<option value="{Q2}" selected>' in page
    assert "サッカー部" not in page  # answers are never shown
    assert '<label for="id_transaction_password">' in page


def test_registering_a_third_question_keeps_the_others_and_notifies_the_customer(
    client: Client, customer: Customer
) -> None:
    before = _snapshot(customer)
    r = client.post(URL, _form(question_3=Q3, answer_3="　ﾀﾛﾁｬﾝ "))
    assert r.status_code == 302
    assert r["Location"] == "/procedures/secret-questions/done/"
    after = _snapshot(customer)
    assert after[:2] == before  # unchanged slots keep their stored answers
    third = SecretQuestion.objects.get(customer=customer, position=3)
    assert third.question == Q3
    # Stored as the hash of the normalised answer (NFKC, trimmed): 「タロチャン」.
    assert check_password("タロチャン", third.answer_hash)
    mail = OutboxMail.objects.get(purpose="security_notice")
    assert mail.to_addr == customer.email
    assert "追加認証" in mail.subject
    assert settings.NETBANK_HELPDESK["phone"] in mail.body
    assert "ﾀﾛﾁｬﾝ" not in mail.body
    record = AuditRecord.objects.get(event="secret_questions.changed")
    assert record.data.pop("request_id")  # the id of the request it happened in
    assert record.data == {"positions": [1, 2, 3], "changed": [3]}
    done = client.get(r["Location"]).content.decode()
    assert Q3 in done


def test_changing_a_question_replaces_its_answer_and_resets_the_question_asked(
    client: Client, customer: Customer
) -> None:
    secret_question_pick(customer=customer)
    r = client.post(URL, _form(question_1=Q3, answer_1="たろう"))
    assert r.status_code == 302
    slot1 = SecretQuestion.objects.get(customer=customer, position=1)
    assert slot1.question == Q3
    assert check_password("たろう", slot1.answer_hash)
    customer.refresh_from_db()
    assert customer.challenge_position is None


def test_removing_a_question_by_choosing_none(client: Client, customer: Customer) -> None:
    r = client.post(URL, _form(question_2=""))
    assert r.status_code == 302
    assert list(
        SecretQuestion.objects.filter(customer=customer).values_list("position", flat=True)
    ) == [1]


def _assert_refused(client: Client, customer: Customer, data: dict[str, Any], message: str) -> str:
    before = _snapshot(customer)
    mails = OutboxMail.objects.filter(purpose="security_notice").count()
    r = client.post(URL, data)
    assert r.status_code == 400
    page = r.content.decode()
    assert message in page, page[page.find("<main") :][:3000]
    assert _snapshot(customer) == before
    assert OutboxMail.objects.filter(purpose="security_notice").count() == mails
    assert not AuditRecord.objects.filter(event="secret_questions.changed").exists()
    return page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"question_3": Q3, "answer_3": "あ" * 17}, "回答は16文字以内で入力してください"),
        ({"question_3": Q3, "answer_3": "サッカー部" + " " * 12}, "16文字以内"),
        ({"question_3": Q3, "answer_3": "たろ\x00う"}, "制御文字"),
        ({"question_3": Q3, "answer_3": "たろ\u202eう"}, "制御文字"),
        ({"question_3": Q3, "answer_3": "　 　"}, "回答を入力してください"),
        ({"question_3": Q3}, "新しく選択した質問には回答を入力してください"),
        ({"question_1": Q3, "answer_1": ""}, "新しく選択した質問には回答を入力してください"),
        ({"question_3": Q1, "answer_3": "野球部"}, "同じ質問を複数登録することはできません"),
        ({"question_3": "あなたの暗証番号は？", "answer_3": "1234"}, "question_3"),
        ({"answer_3": "たろう"}, "質問を選択してください"),
        ({"question_1": "", "question_2": ""}, "追加認証の質問を1つ以上登録してください"),
        ({"transaction_password": ""}, "確認用パスワードを入力してください"),
        (
            {"transaction_password": "ｋａｋｕｎｉｎ"},
            "確認用パスワードは半角英数字記号で入力してください",
        ),
        ({"transaction_password": "x" * 65}, "確認用パスワードは64文字以内"),
        ({"transaction_password": "Kaku\x7fnin"}, "制御文字"),
    ],
)
def test_bad_input_gets_a_message_changes_nothing_and_costs_no_password_attempt(
    client: Client,
    customer: Customer,
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, str],
    message: str,
) -> None:
    with counting_hasher(monkeypatch) as calls:
        page = _assert_refused(client, customer, _form(**overrides), message)
    assert calls.total == 0  # rejected before the 確認用パスワード was even checked
    assert not FailureCounter.objects.filter(kind=lockout.TRANSACTION_PASSWORD).exists()
    assert 'aria-invalid="true"' in page or "追加認証の質問を1つ以上" in page


def test_wrong_transaction_password_changes_nothing_and_counts(
    client: Client, customer: Customer
) -> None:
    page = _assert_refused(
        client,
        customer,
        _form(question_3=Q3, answer_3="たろう", transaction_password="Wrong-123"),
        "確認用パスワードが正しくありません。",
    )
    assert 'aria-describedby="id_transaction_password_error"' in page
    counter = FailureCounter.objects.get(kind=lockout.TRANSACTION_PASSWORD)
    assert counter.consecutive_failures == 1


def test_five_wrong_transaction_passwords_lock_and_then_the_right_one_is_refused(
    client: Client, customer: Customer
) -> None:
    for _ in range(4):
        client.post(URL, _form(question_3=Q3, answer_3="たろう", transaction_password="Wrong-1"))
    page = _assert_refused(
        client,
        customer,
        _form(question_3=Q3, answer_3="たろう", transaction_password="Wrong-1"),
        "確認用パスワードを続けて誤って入力されたため",
    )
    assert settings.NETBANK_HELPDESK["phone"] in page
    _assert_refused(
        client, customer, _form(question_3=Q3, answer_3="たろう"), "ご利用を一時的に停止しています"
    )
    assert OutboxMail.objects.filter(purpose="lock_notice").count() == 1
