"""ワンタイムパスワード利用開始 (leaflet part 1, Step 3) and re-issue: the old token keeps
working until the new one reaches 利用開始, then it is revoked."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from netbank.otp.tokens import selectors, services
from tests.otp.test_screens_support import (
    ACTIVATION_PASSWORD,
    PHONE,
    activate,
    confirm_data,
    current_code,
    field_error,
    input_data,
    login,
    make_customer,
    page_text,
    redirected_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _issue(customer: Customer, email: str = PHONE) -> Token:
    return services.token_issue(
        customer=customer, email=email, activation_password=ACTIVATION_PASSWORD, ip="192.0.2.1"
    )


def _in_use_token(customer: Customer) -> Token:
    token = _issue(customer)
    activate(token)
    outcome = services.token_start_use(customer=customer, code=current_code(token), ip=None)
    assert outcome.started
    token.refresh_from_db()
    return token


def test_start_use_screen_happy_path_then_login_demands_the_otp() -> None:
    customer = make_customer()
    c = login(customer)
    token = _issue(customer)
    activate(token)
    r = c.get(reverse("otp:start_use"))
    text = page_text(r)
    assert r.status_code == 200
    assert "ワンタイムパスワード利用開始" in text
    assert (
        "携帯電話に表示されているワンタイムパスワードを入力し、「利用開始する」ボタンをクリックしてください。"
        in text
    )
    assert "利用開始する" in text

    r = c.post(reverse("otp:start_use"), {"code": current_code(token)})
    assert redirected_to(r) == reverse("otp:start_use_done")
    r = c.get(reverse("otp:start_use_done"))
    assert "以降、ログインの際ワンタイムパスワードの入力が必要です" in page_text(r)

    token.refresh_from_db()
    assert token.state == Token.State.IN_USE
    assert token.in_use_at == clock.now()
    assert not token.activation_ciphertext  # the activation password is gone for good
    assert OutboxMail.objects.filter(
        purpose="otp_start_use_notice", to_addr=customer.email
    ).exists()
    assert AuditRecord.objects.filter(event="token.in_use", customer_id=customer.pk).exists()

    # From now on: ID + password leave the customer NOT logged in until the OTP passes.
    fresh = Client()
    r = fresh.post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": "Login-pass-1"}
    )
    assert redirected_to(r) == reverse("otp:login_otp")
    assert redirected_to(fresh.get(reverse("otp:menu"))).startswith(reverse("customers:login"))
    clock.advance(token.period)
    r = fresh.post(reverse("otp:login_otp"), {"code": current_code(token)})
    assert redirected_to(r) == reverse("customers:top")
    assert fresh.get(reverse("otp:menu")).status_code == 200


def test_wrong_otp_is_refused_and_counts_toward_the_otp_lockout() -> None:
    customer = make_customer()
    c = login(customer)
    token = _issue(customer)
    activate(token)
    good = current_code(token)
    wrong = f"{(int(good) + 1) % 10**6:06d}"
    r = c.post(reverse("otp:start_use"), {"code": wrong})
    assert r.status_code == 400
    assert "ワンタイムパスワードが正しくありません" in field_error(r, "code")
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    counter = lockout.FailureCounter.objects.get(
        kind=lockout.OTP, subject=lockout.subject_for_customer(customer)
    )
    assert counter.consecutive_failures == 1


def test_fifth_wrong_otp_locks_and_even_the_right_code_is_then_refused() -> None:
    customer = make_customer()
    c = login(customer)
    token = _issue(customer)
    activate(token)
    for _ in range(5):
        good = current_code(token)
        c.post(reverse("otp:start_use"), {"code": f"{(int(good) + 1) % 10**6:06d}"})
    r = c.post(reverse("otp:start_use"), {"code": current_code(token)})
    assert r.status_code == 400
    text = page_text(r)
    assert "ロック" in text or "停止" in text
    assert "0120-058-098" in text  # the lock message names the helpdesk
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED


def test_the_code_that_started_use_cannot_be_replayed_to_log_in() -> None:
    customer = make_customer()
    token = _issue(customer)
    activate(token)
    code = current_code(token)
    assert services.token_start_use(customer=customer, code=code, ip=None).started
    again = services.token_start_use(customer=customer, code=code, ip=None)
    assert again.result is services.StartUseResult.NO_TOKEN
    c = Client()
    c.post(reverse("customers:login"), {"login_id": customer.login_id, "password": "Login-pass-1"})
    r = c.post(reverse("otp:login_otp"), {"code": code})
    assert r.status_code == 400
    assert c.get(reverse("otp:menu")).status_code == 302


def test_replayed_otp_is_refused_by_start_use() -> None:
    customer = make_customer()
    token = _issue(customer)
    activate(token)
    code = current_code(token)
    # The app's first code was already accepted once (e.g. by another node) ...
    Token.objects.filter(pk=token.pk).update(last_step=int(clock.timestamp()) // token.period)
    outcome = services.token_start_use(customer=customer, code=code, ip=None)
    assert outcome.result is services.StartUseResult.REJECTED
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    # ... and the next step's code works.
    clock.advance(token.period)
    assert services.token_start_use(customer=customer, code=current_code(token), ip=None).started


def test_otp_from_two_steps_ago_is_refused() -> None:
    customer = make_customer()
    token = _issue(customer)
    activate(token)
    old = current_code(token, offset_steps=-2)
    outcome = services.token_start_use(customer=customer, code=old, ip=None)
    assert outcome.result is services.StartUseResult.REJECTED


def test_start_use_before_the_app_is_set_up_explains_and_counts_nothing() -> None:
    customer = make_customer()
    c = login(customer)
    _issue(customer)
    r = c.post(reverse("otp:start_use"), {"code": "123456"})
    assert r.status_code == 400
    assert "初期設定が完了していません" in page_text(r)
    assert not lockout.FailureCounter.objects.filter(kind=lockout.OTP).exists()


def test_start_use_without_any_token_explains() -> None:
    c = login(make_customer())
    r = c.post(reverse("otp:start_use"), {"code": "123456"})
    assert r.status_code == 400
    assert "利用開始できるトークンがありません" in page_text(r)


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "１２３４５６", "12a456", "x" * 5000, "-12345"]
)
def test_malformed_otp_gets_a_message_and_counts_nothing(code: str) -> None:
    customer = make_customer()
    c = login(customer)
    token = _issue(customer)
    activate(token)
    r = c.post(reverse("otp:start_use"), {"code": code})
    assert r.status_code == 400
    assert field_error(r, "code")
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    assert not lockout.FailureCounter.objects.filter(kind=lockout.OTP).exists()


# --- Re-issue --------------------------------------------------------------------------


def test_reissue_keeps_the_old_token_working_until_the_new_one_starts() -> None:
    customer = make_customer()
    old = _in_use_token(customer)
    c = login(customer, token=old)

    r = c.get(reverse("otp:menu"))
    text = page_text(r)
    assert reverse("otp:reissue") in text
    assert reverse("otp:cancel") in text
    assert redirected_to(c.get(reverse("otp:issue"))) == reverse("otp:reissue")

    r = c.get(reverse("otp:reissue"))
    assert "トークン再発行（入力）" in page_text(r)
    c.post(reverse("otp:reissue"), input_data(email="new-phone@phone.example.jp"))
    r = c.get(reverse("otp:issue_confirm"))
    assert "トークン再発行（確認）" in page_text(r)
    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert redirected_to(r) == reverse("otp:issue_done")
    new = Token.objects.get(customer=customer, state=Token.State.ISSUED)
    assert new.replaces_id == old.pk
    notice = OutboxMail.objects.filter(purpose="otp_issue_notice").latest("id")
    assert "再発行" in notice.subject

    # The old token still logs in while the new one is issued and then activated.
    old.refresh_from_db()
    assert old.state == Token.State.IN_USE
    login(customer, token=old)
    activate(new)
    login(customer, token=old)
    assert selectors.token_in_use(customer) == old

    # 利用開始 of the new token revokes the old one in the same step.
    clock.advance(new.period)
    r = c.post(reverse("otp:start_use"), {"code": current_code(new)})
    assert redirected_to(r) == reverse("otp:start_use_done")
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.state == Token.State.IN_USE
    assert old.state == Token.State.REVOKED
    assert not old.secret_ciphertext
    assert AuditRecord.objects.filter(event="token.revoked", customer_id=customer.pk).exists()
    assert selectors.token_in_use(customer) == new

    # The old token's codes no longer open a login; the new one's do.
    fresh = Client()
    fresh.post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": "Login-pass-1"}
    )
    clock.advance(old.period)
    r = fresh.post(reverse("otp:login_otp"), {"code": current_code(new)})
    assert redirected_to(r) == reverse("customers:top")


def test_new_issue_voids_a_pending_issue() -> None:
    customer = make_customer()
    first = _issue(customer)
    activate(first)
    second = _issue(customer, email="other@phone.example.jp")
    first.refresh_from_db()
    assert first.state == Token.State.VOIDED
    assert not first.secret_ciphertext
    assert second.state == Token.State.ISSUED
    assert second.replaces_id is None  # nothing was in use
    # The voided token cannot be started any more.
    outcome = services.token_start_use(customer=customer, code="000000", ip=None)
    assert outcome.result is services.StartUseResult.NOT_SET_UP


def test_only_one_token_in_use_at_a_time() -> None:
    customer = make_customer()
    _in_use_token(customer)
    clock.advance(60)
    _in_use_token(customer)
    assert Token.objects.filter(customer=customer, state=Token.State.IN_USE).count() == 1
    assert Token.objects.filter(customer=customer, state=Token.State.REVOKED).count() == 1


def test_user_ids_are_random_twelve_digits_and_never_the_login_id() -> None:
    customer = make_customer(login_id="123456789012")
    ids = []
    for i in range(12):
        clock.advance(1)
        ids.append(_issue(customer, email=f"p{i}@phone.example.jp").user_id)
    assert len(set(ids)) == len(ids)
    for user_id in ids:
        assert len(user_id) == 12
        assert user_id.isdigit()
        assert user_id[0] != "0"
        assert user_id != customer.login_id
    gaps = {int(b) - int(a) for a, b in itertools.pairwise(ids)}
    assert gaps != {1}  # not sequential


def test_issue_expires_after_the_configured_ttl() -> None:
    customer = make_customer()
    c = login(customer)
    token = _issue(customer)
    assert (token.expires_at - token.created_at).total_seconds() == 24 * 3600
    clock.advance(24 * 3600 + 1)
    r = c.get(reverse("otp:menu"))
    assert "設定期限" not in page_text(r)
