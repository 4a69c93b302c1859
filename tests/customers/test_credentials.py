"""確認用パスワード and 追加認証: checks, lockouts, the fixed question, hashed answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer, SecretQuestion
from netbank.customers.services import (
    secret_answer_check,
    secret_question_pick,
    transaction_password_check,
)
from netbank.notifications.models import OutboxMail
from tests.customers.factories import TRANSACTION_PASSWORD, make_customer

pytestmark = pytest.mark.django_db

ANSWERS = {
    "中学校の時の部活動は何ですか？": "サッカー部",
    "初めて見た映画のタイトルは何ですか？": "となりのトトロ",
}


def _fail_transaction_password(customer: Customer, times: int) -> None:
    for _ in range(times):
        assert not transaction_password_check(customer=customer, password="wrong-one").ok


def test_right_transaction_password_is_accepted_and_audited(frozen_clock: datetime) -> None:
    customer = make_customer()
    outcome = transaction_password_check(
        customer=customer, password=TRANSACTION_PASSWORD, ip="192.0.2.1"
    )
    assert outcome.ok
    assert AuditRecord.objects.filter(
        event="transaction_password.accepted", customer_id=customer.pk
    ).exists()


def test_wrong_transaction_password_is_refused_with_a_message(frozen_clock: datetime) -> None:
    customer = make_customer()
    outcome = transaction_password_check(customer=customer, password="nope")
    assert not outcome.ok
    assert not outcome.locked
    assert outcome.message == "確認用パスワードが正しくありません。"


def test_fifth_wrong_transaction_password_locks_and_mails_the_customer(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    _fail_transaction_password(customer, 4)
    outcome = transaction_password_check(customer=customer, password="wrong")
    assert outcome.locked
    assert outcome.just_locked
    assert not outcome.permanent
    assert outcome.until == frozen_clock + timedelta(minutes=30)
    mails = OutboxMail.objects.filter(to_addr=customer.email, purpose="lock_notice")
    assert mails.count() == 1
    assert "確認用パスワード" in mails.get().subject
    assert settings.NETBANK_HELPDESK["phone"] in outcome.message


def test_right_transaction_password_is_refused_while_locked(frozen_clock: datetime) -> None:
    customer = make_customer()
    _fail_transaction_password(customer, 5)
    outcome = transaction_password_check(customer=customer, password=TRANSACTION_PASSWORD)
    assert not outcome.ok
    assert outcome.locked
    clock.advance(30 * 60 + 1)
    assert transaction_password_check(customer=customer, password=TRANSACTION_PASSWORD).ok


def test_success_resets_the_consecutive_count(frozen_clock: datetime) -> None:
    customer = make_customer()
    _fail_transaction_password(customer, 4)
    assert transaction_password_check(customer=customer, password=TRANSACTION_PASSWORD).ok
    _fail_transaction_password(customer, 4)
    # 8 failures in all, but never 5 in a row: still not locked.
    subject = lockout.subject_for_customer(customer)
    assert not lockout.lockout_status(kind=lockout.TRANSACTION_PASSWORD, subject=subject).locked
    _fail_transaction_password(customer, 1)
    assert lockout.lockout_status(kind=lockout.TRANSACTION_PASSWORD, subject=subject).locked


def test_third_transaction_password_lock_in_a_day_is_permanent_and_names_the_helpdesk(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    _fail_transaction_password(customer, 5)  # 30 min
    clock.advance(30 * 60 + 1)
    _fail_transaction_password(customer, 5)  # 1 h
    clock.advance(60 * 60 + 1)
    _fail_transaction_password(customer, 4)
    outcome = transaction_password_check(customer=customer, password="wrong")
    assert outcome.permanent
    assert "ヘルプデスクへのご連絡が必要です" in outcome.message
    assert settings.NETBANK_HELPDESK["phone"] in outcome.message
    assert settings.NETBANK_HELPDESK["weekday_hours"] in outcome.message
    clock.advance(7 * 24 * 3600)
    still = transaction_password_check(customer=customer, password=TRANSACTION_PASSWORD)
    assert not still.ok
    assert still.permanent


def test_transaction_password_lock_does_not_lock_the_login(frozen_clock: datetime) -> None:
    customer = make_customer()
    _fail_transaction_password(customer, 5)
    assert not lockout.lockout_status(
        kind=lockout.LOGIN_PASSWORD, subject=lockout.subject_for_customer(customer)
    ).locked


# --- 追加認証 ---------------------------------------------------------------------------


def test_answers_are_stored_hashed_not_in_clear() -> None:
    customer = make_customer()
    for q in SecretQuestion.objects.filter(customer=customer):
        assert q.answer_hash.startswith("argon2$argon2id$")
        assert ANSWERS[q.question] not in q.answer_hash


def test_the_question_asked_does_not_change_on_reload_or_new_session() -> None:
    customer = make_customer(
        questions=[
            ("中学校の時の部活動は何ですか？", "サッカー部"),
            ("初めて見た映画のタイトルは何ですか？", "となりのトトロ"),
            ("子供の頃のあだ名は何ですか？", "たろちゃん"),
        ]
    )
    first = secret_question_pick(customer=customer)
    assert first is not None
    # Fifty more picks, as fifty reloads or logins would make: never a different one.
    fresh = Customer.objects.get(pk=customer.pk)
    assert {secret_question_pick(customer=fresh).pk for _ in range(50)} == {first.pk}  # type: ignore[union-attr]


def test_the_question_stays_after_a_wrong_answer(frozen_clock: datetime) -> None:
    customer = make_customer()
    q = secret_question_pick(customer=customer)
    assert q is not None
    assert not secret_answer_check(customer=customer, question_id=q.pk, answer="wrong").ok
    again = secret_question_pick(customer=customer)
    assert again is not None
    assert again.pk == q.pk


def test_right_answer_in_another_width_and_case_is_accepted(frozen_clock: datetime) -> None:
    customer = make_customer()
    q = secret_question_pick(customer=customer)
    assert q is not None
    # Half-width kana and full-/half-width spaces around the stored answer.
    typed = {"サッカー部": "　ｻｯｶｰ部 ", "となりのトトロ": " となりのトトロ　"}[ANSWERS[q.question]]
    outcome = secret_answer_check(customer=customer, question_id=q.pk, answer=typed)
    assert outcome.ok
    customer.refresh_from_db()
    assert customer.challenge_position is None  # the next attempt may ask any question


def test_answer_to_a_question_not_being_asked_is_refused_unchecked(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    asked = secret_question_pick(customer=customer)
    assert asked is not None
    other = SecretQuestion.objects.filter(customer=customer).exclude(pk=asked.pk).get()
    outcome = secret_answer_check(
        customer=customer, question_id=other.pk, answer=ANSWERS[other.question]
    )
    assert not outcome.ok
    assert outcome.stale
    # Not counted either way, and the asked question is unchanged.
    counter = lockout.lockout_status(
        kind=lockout.SECRET_ANSWER, subject=lockout.subject_for_customer(customer)
    )
    assert not counter.locked
    assert secret_question_pick(customer=customer).pk == asked.pk  # type: ignore[union-attr]


def test_another_customers_question_id_is_refused(frozen_clock: datetime) -> None:
    customer = make_customer()
    stranger = make_customer()
    theirs = secret_question_pick(customer=stranger)
    assert theirs is not None
    secret_question_pick(customer=customer)
    outcome = secret_answer_check(
        customer=customer, question_id=theirs.pk, answer=ANSWERS[theirs.question]
    )
    assert not outcome.ok


def test_fifth_wrong_answer_locks_and_the_right_answer_is_then_refused(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    q = secret_question_pick(customer=customer)
    assert q is not None
    for _ in range(4):
        outcome = secret_answer_check(customer=customer, question_id=q.pk, answer="はずれ")
        assert outcome.message == "追加認証の回答が正しくありません。"
    outcome = secret_answer_check(customer=customer, question_id=q.pk, answer="はずれ")
    assert outcome.locked
    assert outcome.just_locked
    assert OutboxMail.objects.filter(to_addr=customer.email, purpose="lock_notice").count() == 1
    right = secret_answer_check(customer=customer, question_id=q.pk, answer=ANSWERS[q.question])
    assert not right.ok
    assert right.locked


def test_customer_without_questions_gets_none() -> None:
    customer = make_customer(questions=[])
    assert secret_question_pick(customer=customer) is None
