"""トークン発行（確認）: the 確認用パスワード and 追加認証 checks in front of every issue.

Each wrong value counts toward its own lockout; the question is fixed for the attempt;
a refused confirmation issues nothing and mails nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from netbank.otp.tokens import services
from tests.otp.test_screens_support import (
    ANSWER,
    ANSWER_2,
    PHONE,
    QUESTION,
    QUESTION_2,
    TRANSACTION_PASSWORD,
    confirm_data,
    field_error,
    input_data,
    login,
    make_customer,
    page_text,
    redirected_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _at_confirm(customer: Customer) -> Client:
    c = login(customer)
    r = c.post(reverse("otp:issue"), input_data())
    assert redirected_to(r) == reverse("otp:issue_confirm")
    return c


def _counter(customer: Customer, kind: str) -> FailureCounter | None:
    return FailureCounter.objects.filter(
        kind=kind, subject=lockout.subject_for_customer(customer)
    ).first()


def _nothing_issued(customer: Customer) -> bool:
    return (
        not Token.objects.filter(customer=customer).exists()
        and not OutboxMail.objects.filter(purpose__startswith="otp_").exists()
    )


def test_wrong_transaction_password_is_refused_next_to_the_field_and_counted() -> None:
    customer = make_customer()
    c = _at_confirm(customer)
    r = c.post(reverse("otp:issue_confirm"), confirm_data(transaction_password="Wrong-pass-1"))
    assert r.status_code == 400
    assert "確認用パスワードが正しくありません" in field_error(r, "transaction_password")
    counter = _counter(customer, lockout.TRANSACTION_PASSWORD)
    assert counter is not None
    assert counter.consecutive_failures == 1
    assert _nothing_issued(customer)
    # The attempt goes on: the draft is kept, the password field is not sent back.
    assert "otp_issue_draft" in c.session
    assert "Wrong-pass-1" not in r.content.decode()
    # The secret answer was not checked without a correct 確認用パスワード.
    assert _counter(customer, lockout.SECRET_ANSWER) is None


def test_fifth_wrong_transaction_password_locks_even_the_right_one() -> None:
    customer = make_customer()
    c = _at_confirm(customer)
    for _ in range(5):
        r = c.post(reverse("otp:issue_confirm"), confirm_data(transaction_password="Wrong-pass-1"))
        assert r.status_code == 400
    lock_mails = OutboxMail.objects.filter(purpose="lock_notice", to_addr=customer.email)
    assert lock_mails.count() == 1
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert r.status_code == 400
    text = page_text(r)
    assert "確認用パスワード" in text
    assert "0120-058-098" in text  # the lock message names the helpdesk
    assert not Token.objects.filter(customer=customer).exists()
    # After the lock runs out (30 min), the right password works again.
    clock.advance(30 * 60 + 1)
    c = _at_confirm(customer)
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert redirected_to(r) == reverse("otp:issue_done")


def test_wrong_secret_answer_counts_toward_its_own_lockout() -> None:
    customer = make_customer()
    c = _at_confirm(customer)
    r = c.post(reverse("otp:issue_confirm"), confirm_data(answer="野球部"))
    assert r.status_code == 400
    assert "追加認証の回答が正しくありません" in field_error(r, "answer")
    answer_counter = _counter(customer, lockout.SECRET_ANSWER)
    assert answer_counter is not None
    assert answer_counter.consecutive_failures == 1
    password_counter = _counter(customer, lockout.TRANSACTION_PASSWORD)
    assert password_counter is None or password_counter.consecutive_failures == 0
    assert not Token.objects.filter(customer=customer).exists()
    for _ in range(4):
        c.post(reverse("otp:issue_confirm"), confirm_data(answer="野球部"))
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert r.status_code == 400
    assert "追加認証の回答" in page_text(r)
    assert not Token.objects.filter(customer=customer).exists()


def test_answer_is_compared_after_normalisation() -> None:
    customer = make_customer()
    c = _at_confirm(customer)
    r = c.post(reverse("otp:issue_confirm"), confirm_data(answer=" ｻｯｶｰ部　"))
    assert redirected_to(r) == reverse("otp:issue_done")


@pytest.mark.parametrize(
    ("overrides", "field", "message_part"),
    [
        ({"transaction_password": ""}, "transaction_password", "入力してください"),
        ({"transaction_password": "ｐａｓｓ"}, "transaction_password", "全角"),
        ({"answer": ""}, "answer", "入力してください"),
        ({"answer": "あ" * 17}, "answer", "16"),
        ({"answer": "サッカー\u202e部"}, "answer", "制御文字"),
        ({"answer": "サッカー\u0000部"}, "answer", "文字"),
    ],
)
def test_malformed_confirmation_input_is_refused_uncounted(
    overrides: dict[str, str], field: str, message_part: str
) -> None:
    customer = make_customer()
    c = _at_confirm(customer)
    r = c.post(reverse("otp:issue_confirm"), confirm_data(**overrides))
    assert r.status_code == 400
    assert message_part in field_error(r, field)
    assert _nothing_issued(customer)
    for kind in (lockout.TRANSACTION_PASSWORD, lockout.SECRET_ANSWER):
        counter = _counter(customer, kind)
        assert counter is None or counter.consecutive_failures == 0


def test_question_is_fixed_across_resubmits_back_and_new_sessions() -> None:
    customer = make_customer(two_questions=True)
    c = _at_confirm(customer)
    r = c.get(reverse("otp:issue_confirm"))
    text = page_text(r)
    asked = QUESTION if QUESTION in text else QUESTION_2
    other = QUESTION_2 if asked == QUESTION else QUESTION
    wrong = ANSWER_2 if asked == QUESTION else ANSWER  # the other question's answer
    for _ in range(3):
        r = c.post(reverse("otp:issue_confirm"), confirm_data(answer=wrong))
        assert asked in page_text(r)
        assert other not in page_text(r)
    # 戻る and a fresh 次へ, or a whole new login, do not re-roll the question.
    c.post(reverse("otp:issue_confirm"), {"action": "back"})
    c.post(reverse("otp:issue"), input_data())
    assert asked in page_text(c.get(reverse("otp:issue_confirm")))
    c2 = _at_confirm(customer)
    assert asked in page_text(c2.get(reverse("otp:issue_confirm")))
    # The question id travels with the attempt in the session, not in the form.
    r = c2.post(
        reverse("otp:issue_confirm"),
        {**confirm_data(answer=ANSWER if asked == QUESTION else ANSWER_2), "question_id": "999"},
    )
    assert redirected_to(r) == reverse("otp:issue_done")


def test_a_draft_of_another_customer_is_not_usable() -> None:
    first = make_customer("screens01")
    second = make_customer("screens02", email="hanako@example.jp")
    c = _at_confirm(first)
    draft = c.session["otp_issue_draft"]
    c2 = login(second)
    session = c2.session
    session["otp_issue_draft"] = draft
    session.save()
    r = c2.post(reverse("otp:issue_confirm"), confirm_data())
    assert redirected_to(r) == reverse("otp:issue")
    assert not Token.objects.exists()


def test_a_tampered_sealed_password_issues_nothing() -> None:
    customer = make_customer()
    c = _at_confirm(customer)
    session = c.session
    draft = dict(session["otp_issue_draft"])
    sealed = dict(draft["sealed"])
    sealed["draft_id"] = "0" * 32  # the AAD no longer matches
    draft["sealed"] = sealed
    session["otp_issue_draft"] = draft
    session.save()
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert redirected_to(r) == reverse("otp:issue")
    assert _nothing_issued(customer)


def test_draft_expires() -> None:
    customer = make_customer()
    c = _at_confirm(customer)
    clock.advance(31 * 60)
    # Log in again (the session's idle limit is shorter than the draft's).
    c = login(customer, client=c)
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert redirected_to(r) == reverse("otp:issue")
    assert not Token.objects.exists()


def _csrf_token(response: Any) -> str:
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert m is not None
    return m.group(1)


def test_screens_enforce_csrf() -> None:
    customer = make_customer()
    c = Client(enforce_csrf_checks=True)
    # Log in with a CSRF-free client, then carry its session cookie over.
    c.cookies = login(customer).cookies
    r = c.post(reverse("otp:issue"), input_data())
    assert r.status_code == 403
    assert "otp_issue_draft" not in c.session
    r = c.post(reverse("otp:start_use"), {"code": "123456"})
    assert r.status_code == 403
    # With the token from the page, the same posts go through.
    token = _csrf_token(c.get(reverse("otp:issue")))
    r = c.post(reverse("otp:issue"), {**input_data(), "csrfmiddlewaretoken": token})
    assert redirected_to(r) == reverse("otp:issue_confirm")
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert r.status_code == 403
    assert not Token.objects.exists()
    token = _csrf_token(c.get(reverse("otp:issue_confirm")))
    r = c.post(reverse("otp:issue_confirm"), {**confirm_data(), "csrfmiddlewaretoken": token})
    assert redirected_to(r) == reverse("otp:issue_done")


def test_issue_service_refuses_bad_input_without_storing() -> None:
    customer = make_customer()
    for email, password in [
        ("bad", "1234"),
        (PHONE, "１２３４"),
        (PHONE, "123"),
        (PHONE, "123456789"),
        ("ｘ@example.jp", "1234"),
    ]:
        with pytest.raises(services.TokenError):
            services.token_issue(
                customer=customer, email=email, activation_password=password, ip=None
            )
    assert _nothing_issued(customer)


def test_authorised_issue_with_wrong_password_changes_nothing() -> None:
    customer = make_customer()
    outcome = services.token_issue_authorised(
        customer=customer,
        email=PHONE,
        activation_password="1234",
        transaction_password=TRANSACTION_PASSWORD + "x",
        question_id=customer.questions.get().pk,
        answer=ANSWER,
        ip=None,
    )
    assert not outcome.ok
    assert outcome.field_errors
    assert "transaction_password" in outcome.field_errors
    assert _nothing_issued(customer)
