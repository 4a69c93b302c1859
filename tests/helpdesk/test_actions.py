"""Unlock, token reset (lost phone) and token-mail resend, each behind a recorded
identity check, audited with the operator and the reason, and announced to the customer."""

from __future__ import annotations

import pytest
from django.test import Client

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.helpdesk.models import IdentityCheck
from netbank.helpdesk.services import (
    ActionError,
    emergency_suspend,
    lockout_unlock,
    token_mail_resend,
    token_reset,
)
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from tests.helpdesk.factories import (
    PASSWORD,
    customer_logged_in,
    customer_login,
    identity_post,
    in_use_token,
    issue_token,
    make_customer,
    make_operator,
    operator_login,
    verified_check,
)

pytestmark = pytest.mark.django_db

REASON = "お客さまからの電話による依頼"


def lock_login(customer: Customer) -> FailureCounter:
    for _ in range(5):
        r = Client(REMOTE_ADDR="198.51.100.40").post(
            "/", {"login_id": customer.login_id, "password": "wrong-password-9"}
        )
        assert r.status_code == 400
    counter = FailureCounter.objects.get(
        kind=lockout.LOGIN_PASSWORD, subject=lockout.subject_for_customer(customer)
    )
    assert counter.locked_until is not None
    return counter


def test_unlock_lifts_the_login_lock_with_an_identity_check_and_mails_the_customer() -> None:
    customer = make_customer()
    counter = lock_login(customer)
    op = make_operator()
    outcome = lockout_unlock(
        customer=customer,
        counter_id=counter.pk,
        operator=op.user,
        reason=REASON,
        check=verified_check(),
        ip="192.0.2.10",
    )
    assert outcome.ok
    counter.refresh_from_db()
    assert counter.locked_until is None
    assert counter.consecutive_failures == 0
    assert customer_logged_in(customer_login(customer))
    rec = AuditRecord.objects.get(event="helpdesk.lockout_unlocked")
    assert rec.operator_id == op.user.pk
    assert rec.customer_id == customer.pk
    assert rec.data["reason"] == REASON
    assert rec.data["identity_check_id"] == outcome.identity_check.pk  # type: ignore[union-attr]
    assert AuditRecord.objects.filter(event="lockout.cleared", operator_id=op.user.pk).exists()
    notice = OutboxMail.objects.get(purpose="security_helpdesk_notice")
    assert "ログインパスワードのロック解除" in notice.body
    assert "/security/emergency-stop/" in notice.body


def test_a_failed_identity_check_unlocks_nothing_but_is_recorded() -> None:
    customer = make_customer()
    counter = lock_login(customer)
    outcome = lockout_unlock(
        customer=customer,
        counter_id=counter.pk,
        operator=make_operator().user,
        reason=REASON,
        check=verified_check(result="failed", items=[]),
        ip=None,
    )
    assert not outcome.ok
    counter.refresh_from_db()
    assert counter.locked_until is not None
    assert IdentityCheck.objects.get().result == "failed"


def test_an_operator_cannot_unlock_another_customers_counter() -> None:
    victim = make_customer()
    other = make_customer()
    counter = lock_login(victim)
    with pytest.raises(ActionError):
        lockout_unlock(
            customer=other,
            counter_id=counter.pk,
            operator=make_operator().user,
            reason=REASON,
            check=verified_check(),
            ip=None,
        )
    counter.refresh_from_db()
    assert counter.locked_until is not None
    assert not IdentityCheck.objects.exists()


def test_token_reset_revokes_the_token_and_the_customer_issues_a_new_one() -> None:
    customer = make_customer()
    token = in_use_token(customer)
    pending = issue_token(customer)
    op = make_operator()
    outcome = token_reset(
        customer=customer,
        operator=op.user,
        reason="携帯電話の紛失",
        check=verified_check(),
        ip=None,
    )
    assert outcome.ok
    token.refresh_from_db()
    pending.refresh_from_db()
    assert token.state == Token.State.REVOKED
    assert token.secret_ciphertext is None
    assert pending.state == Token.State.VOIDED
    # Login goes back to ID + password, and トークン発行 is open again (leaflet Step 1).
    client = customer_login(customer)
    r = client.get("/procedures/otp/issue/")
    assert r.status_code == 200
    assert "トークン発行" in r.content.decode()
    rec = AuditRecord.objects.get(event="helpdesk.token_reset")
    assert rec.operator_id == op.user.pk
    assert rec.data["tokens_revoked"] == 2
    assert OutboxMail.objects.filter(purpose="security_helpdesk_notice").exists()


def test_token_reset_of_a_customer_without_tokens_is_refused_before_any_check() -> None:
    with pytest.raises(ActionError, match="失効させるトークンがありません"):
        token_reset(
            customer=make_customer(),
            operator=make_operator().user,
            reason=REASON,
            check=verified_check(),
            ip=None,
        )
    assert not IdentityCheck.objects.exists()


def test_token_mail_resend_queues_the_leaflet_mail_again() -> None:
    customer = make_customer()
    token = issue_token(customer)
    outcome = token_mail_resend(
        customer=customer,
        operator=make_operator().user,
        reason=REASON,
        check=verified_check(),
        ip=None,
    )
    assert outcome.ok
    mail = OutboxMail.objects.get(purpose="otp_token_mail")
    assert mail.to_addr == token.email
    assert token.user_id in mail.body
    rec = AuditRecord.objects.get(event="helpdesk.token_mail_resent")
    assert rec.data["user_id"] == token.user_id


def test_token_mail_resend_refuses_an_expired_issue_or_a_suspended_customer() -> None:
    customer = make_customer()
    issue_token(customer)
    clock.advance(24 * 3600 + 1)
    with pytest.raises(ActionError, match="再送できるトークン発行がありません"):
        token_mail_resend(
            customer=customer,
            operator=make_operator().user,
            reason=REASON,
            check=verified_check(),
            ip=None,
        )
    other = make_customer()
    issue_token(other)
    emergency_suspend(customer=other, operator=make_operator().user, reason="申告あり", ip=None)
    with pytest.raises(ActionError, match="停止中"):
        token_mail_resend(
            customer=other,
            operator=make_operator().user,
            reason=REASON,
            check=verified_check(),
            ip=None,
        )
    assert not OutboxMail.objects.filter(purpose="otp_token_mail").exists()


def test_free_text_with_a_url_or_control_characters_is_refused() -> None:
    customer = make_customer()
    counter = lock_login(customer)
    for reason, check in [
        ("see https://evil.example/x", verified_check()),
        (REASON, verified_check(note="http://example.com/reset?t=abc")),
        ("理由\x07です", verified_check()),
    ]:
        with pytest.raises(ActionError):
            lockout_unlock(
                customer=customer,
                counter_id=counter.pk,
                operator=make_operator().user,
                reason=reason,
                check=check,
                ip=None,
            )
    assert not IdentityCheck.objects.exists()


def test_the_console_action_forms_work_and_refuse_bad_input() -> None:
    customer = make_customer()
    counter = lock_login(customer)
    in_use_token(customer)
    client = operator_login(make_operator())
    unlock = f"/helpdesk/customers/{customer.pk}/unlock/{counter.pk}/"
    reset = f"/helpdesk/customers/{customer.pk}/token-reset/"
    mail = f"/helpdesk/customers/{customer.pk}/token-mail/"
    for url in (unlock, reset, mail):
        assert client.get(url).status_code == 200
        for data in [
            {},
            identity_post(method="fax"),
            identity_post(result="maybe"),
            identity_post(items=["address"]),
            identity_post(note=""),
            identity_post(reason="abc"),
            identity_post(reason="x" * 501),
            identity_post(note="x" * 501),
        ]:
            r = client.post(url, data)
            assert r.status_code == 400, (url, data)
            assert "入力内容をご確認ください" in r.content.decode()
    r = client.post(mail, identity_post())
    assert r.status_code == 400
    assert "再送できるトークン発行がありません" in r.content.decode()
    r = client.post(unlock, identity_post())
    assert r.status_code == 302
    assert r["Location"] == f"/helpdesk/customers/{customer.pk}/?done=unlocked"
    # The customer page shows the result, the identity check and its audit records
    # (whose data has a key named "items", which must not upset the template).
    page = client.get(r["Location"]).content.decode()
    assert "ロックを解除しました" in page
    assert "helpdesk.identity_check" in page
    assert "items=[&#x27;address&#x27;, &#x27;name_birthdate&#x27;]" in page
    r = client.post(reset, identity_post(result="failed", items=[]))
    assert r.status_code == 403
    assert "本人確認ができなかったため" in r.content.decode()
    assert Token.objects.get(customer=customer).state == Token.State.IN_USE
    r = client.post(reset, identity_post())
    assert r.status_code == 302
    assert Token.objects.get(customer=customer).state == Token.State.REVOKED
    # Unknown counters and customers are 404, never 500.
    assert client.get(f"/helpdesk/customers/{customer.pk}/unlock/99999/").status_code == 404
    assert client.post("/helpdesk/customers/99999/token-reset/", identity_post()).status_code == 404
    assert PASSWORD  # the customer's password never went near the console
