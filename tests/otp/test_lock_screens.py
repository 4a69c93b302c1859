"""What a customer sees while a credential is locked (docs/security.md "Lockouts"): the
credential, when the lock ends (or that the helpdesk must lift it), the helpdesk number,
voice-menu option and hours, and a form that cannot be used. The server refuses anyway."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.banking.models import AccountType, Transfer
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.otp.models import Token
from netbank.otp.tokens import services
from tests.banking.factories import TRANSACTION_PASSWORD as BANKING_PASSWORD
from tests.banking.factories import customer_with_account, open_account
from tests.banking.factories import login as banking_login
from tests.banking.test_screens import idempotency_key
from tests.otp.test_phone_support import apply_data, phone_client, phone_login
from tests.otp.test_screens_support import (
    ACTIVATION_PASSWORD,
    LOGIN_PASSWORD,
    activate,
    confirm_data,
    current_code,
    input_data,
    login,
    make_customer,
    page_text,
    redirected_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

HELPDESK = "0120-058-098"
HOURS = "9:00～21:00"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def _in_use_token(customer: Customer) -> Token:
    token = services.token_issue(
        customer=customer,
        email="p@phone.example.jp",
        activation_password=ACTIVATION_PASSWORD,
        ip=None,
    )
    activate(token)
    assert services.token_start_use(customer=customer, code=current_code(token), ip=None).started
    token.refresh_from_db()
    return token


def _inputs_and_buttons(response: Any) -> list[str]:
    """The visible inputs and the buttons of the page's own content (not the header's
    language switch or logout)."""
    html = response.content.decode().split('<main class="content"', 1)[1].split("</main>")[0]
    tags = re.findall(r"<input\b[^>]*>|<button\b[^>]*>", html)
    return [t for t in tags if 'type="hidden"' not in t]


def _assert_locked_screen(response: Any, *, until: bool = True) -> None:
    text = page_text(response)
    assert HELPDESK in text
    assert HOURS in text
    assert "入力内容をご確認ください" not in text
    if until:
        assert "以降に、もう一度お試しください" in text
    for tag in _inputs_and_buttons(response):
        if 'value="back"' in tag or 'value="cancel"' in tag:
            continue  # 戻る and 中止する lead away and stay usable
        assert "disabled" in tag, tag


def test_the_otp_login_lock_screen_says_until_when_and_whom_to_call_and_disables_the_form() -> None:
    customer = make_customer()
    token = _in_use_token(customer)
    c = Client()
    c.post(reverse("customers:login"), {"login_id": customer.login_id, "password": LOGIN_PASSWORD})
    for _ in range(5):
        clock.advance(token.period)
        r = c.post(reverse("otp:login_otp"), {"code": _wrong(current_code(token))})
    assert r.status_code == 400
    _assert_locked_screen(r)
    assert "ワンタイムパスワードを続けて誤って入力されたため" in page_text(r)
    # Coming back to the screen shows the lock too, before anything is typed.
    _assert_locked_screen(c.get(reverse("otp:login_otp")))
    # The server still refuses the right code.
    clock.advance(token.period)
    r = c.post(reverse("otp:login_otp"), {"code": current_code(token)})
    assert r.status_code == 400
    _assert_locked_screen(r)


def test_the_start_use_lock_screen_disables_its_form() -> None:
    customer = make_customer()
    c = login(customer)
    token = services.token_issue(
        customer=customer,
        email="p@phone.example.jp",
        activation_password=ACTIVATION_PASSWORD,
        ip=None,
    )
    activate(token)
    for _ in range(5):
        r = c.post(reverse("otp:start_use"), {"code": _wrong(current_code(token))})
    _assert_locked_screen(r)
    _assert_locked_screen(c.get(reverse("otp:start_use")))
    r = c.post(reverse("otp:start_use"), {"code": current_code(token)})
    assert redirected_to(r) == ""
    _assert_locked_screen(r)


def test_the_confirmation_password_lock_screen_disables_the_issue_confirmation() -> None:
    customer = make_customer()
    c = login(customer)
    c.post(reverse("otp:issue"), input_data())
    for _ in range(5):
        r = c.post(reverse("otp:issue_confirm"), confirm_data(transaction_password="Wrong-pass-9"))
    _assert_locked_screen(r)
    assert "確認用パスワードを続けて誤って入力されたため" in page_text(r)
    _assert_locked_screen(c.get(reverse("otp:issue_confirm")))
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert redirected_to(r) == ""
    assert not Token.objects.filter(customer=customer).exists()


def test_the_login_password_lock_is_told_without_the_check_your_input_heading() -> None:
    customer = make_customer()
    for _ in range(5):
        r = Client().post(
            reverse("customers:login"), {"login_id": customer.login_id, "password": "Wrong-pass-9"}
        )
    text = page_text(r)
    assert "以降に、もう一度お試しください" in text
    assert HELPDESK in text
    assert HOURS in text
    assert "入力内容をご確認ください" not in text


def test_a_suspended_customer_is_told_only_about_the_suspension() -> None:
    customer = make_customer()
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    r = Client().post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": LOGIN_PASSWORD}
    )
    assert r.status_code == 400
    text = page_text(r)
    assert "お取引は停止されています" in text
    assert "入力内容をご確認ください" not in text


def test_the_confirmation_password_lock_screen_disables_the_furikae_confirmation() -> None:
    customer, src = customer_with_account(100_000)
    savings = open_account(customer, account_type=AccountType.SAVINGS)
    client = banking_login(customer)
    client.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "1000"},
    )
    key = idempotency_key(client.get(reverse("banking:transfer_confirm")).content.decode())
    for _ in range(5):
        r = client.post(
            reverse("banking:transfer_confirm"),
            {"idempotency_key": key, "transaction_password": "wrong-pass", "action": "confirm"},
        )
    _assert_locked_screen(r)
    _assert_locked_screen(client.get(reverse("banking:transfer_confirm")))
    r = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": key, "transaction_password": BANKING_PASSWORD, "action": "confirm"},
    )
    assert redirected_to(r) == ""
    assert not Transfer.objects.exists()


def test_the_secret_answer_lock_screen_disables_sli012() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)
    for _ in range(5):
        r = client.post("/sp/otp/apply/", apply_data(answer="ラピュタ"))
    _assert_locked_screen(r)
    assert "追加認証の回答を続けて誤って入力されたため" in page_text(r)
    _assert_locked_screen(client.get("/sp/otp/apply/"))


def test_a_permanent_otp_lock_says_only_the_helpdesk_can_lift_it() -> None:
    customer = make_customer()
    token = _in_use_token(customer)
    FailureCounter.objects.update_or_create(
        kind=lockout.OTP,
        subject=lockout.subject_for_customer(customer),
        defaults={"permanently_locked": True, "consecutive_failures": 5},
    )
    c = Client()
    c.post(reverse("customers:login"), {"login_id": customer.login_id, "password": LOGIN_PASSWORD})
    r = c.get(reverse("otp:login_otp"))
    _assert_locked_screen(r, until=False)
    assert "再開にはヘルプデスクへのご連絡が必要です" in page_text(r)
    clock.advance(token.period)
    r = c.post(reverse("otp:login_otp"), {"code": current_code(token)})
    assert r.status_code == 400
    assert redirected_to(r) == ""
