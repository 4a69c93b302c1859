"""利用再開 with four eyes: a supervisor other than the operator who asked, after a
recorded identity check; the same operator cannot lift, a plain operator cannot lift."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.customers.services import secret_question_pick
from netbank.helpdesk.models import IdentityCheck, LiftRequest
from netbank.helpdesk.services import (
    IDENTITY_ITEMS,
    ActionError,
    emergency_suspend,
    lift_approve,
    lift_reject,
    lift_request,
    lift_withdraw,
)
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from tests.customers.factories import QUESTIONS
from tests.helpdesk.factories import (
    customer_logged_in,
    customer_login,
    identity_post,
    in_use_token,
    make_customer,
    make_operator,
    operator_login,
    verified_check,
)

pytestmark = pytest.mark.django_db

REASON = "ご本人から再開の依頼（折り返し確認済み）"


@pytest.fixture
def suspended() -> Customer:
    customer = make_customer()
    emergency_suspend(
        customer=customer, operator=make_operator().user, reason="不正送金の申告", ip=None
    )
    customer.refresh_from_db()
    return customer


def ask(customer: Customer, operator_user, **kw) -> LiftRequest:  # type: ignore[no-untyped-def]
    outcome = lift_request(
        customer=customer,
        operator=operator_user,
        reason=REASON,
        token_action=kw.pop("token_action", "resume"),
        check=kw.pop("check", verified_check()),
        ip=None,
    )
    assert outcome.ok, outcome.message
    assert outcome.lift_request is not None
    return outcome.lift_request


def test_the_supervisor_who_asked_cannot_approve_their_own_request(suspended: Customer) -> None:
    sup = make_operator("supervisor")
    request = ask(suspended, sup.user)
    with pytest.raises(ActionError, match="ご自身が申請した再開は承認できません"):
        lift_approve(request_id=request.pk, supervisor=sup.user, note="自分で承認", ip=None)
    suspended.refresh_from_db()
    assert suspended.status == Customer.Status.SUSPENDED
    request.refresh_from_db()
    assert request.state == LiftRequest.State.PENDING


def test_a_plain_operator_cannot_approve(suspended: Customer) -> None:
    asker = make_operator()
    other = make_operator()
    request = ask(suspended, asker.user)
    with pytest.raises(ActionError, match="スーパーバイザーのみ"):
        lift_approve(request_id=request.pk, supervisor=other.user, note="承認します", ip=None)
    suspended.refresh_from_db()
    assert suspended.status == Customer.Status.SUSPENDED


def test_the_database_refuses_a_request_decided_by_its_own_asker(suspended: Customer) -> None:
    sup = make_operator("supervisor")
    request = ask(suspended, sup.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        LiftRequest.objects.filter(pk=request.pk).update(
            state="approved", decided_by=sup.user, decided_at=clock.now()
        )


def test_another_supervisor_approves_and_the_customer_can_log_in_with_the_old_token(
    suspended: Customer,
) -> None:
    token = Token.objects.filter(customer=suspended).first()
    assert token is None  # this customer had no token; see the next test for one
    asker = make_operator()
    sup = make_operator("supervisor")
    request = ask(suspended, asker.user)
    outcome = lift_approve(
        request_id=request.pk, supervisor=sup.user, note="記録を確認し承認", ip=None
    )
    assert outcome.ok
    suspended.refresh_from_db()
    assert suspended.status == Customer.Status.ACTIVE
    assert customer_logged_in(customer_login(suspended))
    rec = AuditRecord.objects.get(event="helpdesk.lift_approved")
    assert rec.operator_id == sup.user.pk
    assert rec.data["requested_by"] == asker.user.pk
    assert rec.data["reason"] == "記録を確認し承認"
    assert OutboxMail.objects.filter(
        to_addr=suspended.email, purpose="security_lifted_notice"
    ).exists()


def test_approval_resumes_the_suspended_token_or_revokes_it() -> None:
    for action, expected in (("resume", Token.State.IN_USE), ("revoke", Token.State.REVOKED)):
        customer = make_customer()
        token = in_use_token(customer)
        emergency_suspend(
            customer=customer, operator=make_operator().user, reason="申告あり", ip=None
        )
        token.refresh_from_db()
        assert token.state == Token.State.SUSPENDED
        request = ask(customer, make_operator().user, token_action=action)
        lift_approve(
            request_id=request.pk,
            supervisor=make_operator("supervisor").user,
            note="承認します",
            ip=None,
        )
        token.refresh_from_db()
        assert token.state == expected
        if action == "revoke":
            assert token.secret_ciphertext is None


def test_a_lift_needs_a_verified_identity_check_with_two_items(suspended: Customer) -> None:
    op = make_operator()
    with pytest.raises(ActionError, match="2つ以上"):
        lift_request(
            customer=suspended,
            operator=op.user,
            reason=REASON,
            token_action="resume",
            check=verified_check(items=["address"]),
            ip=None,
        )
    assert not IdentityCheck.objects.exists()
    outcome = lift_request(
        customer=suspended,
        operator=op.user,
        reason=REASON,
        token_action="resume",
        check=verified_check(result="failed"),
        ip=None,
    )
    assert not outcome.ok
    assert not LiftRequest.objects.exists()
    # The failed check is evidence: it is kept, and so is the refusal.
    check = IdentityCheck.objects.get()
    assert check.result == "failed"
    assert AuditRecord.objects.filter(event="helpdesk.action_refused").exists()


def test_a_wrong_secret_answer_fails_the_check_and_counts_toward_the_lock() -> None:
    customer = make_customer(questions=QUESTIONS)
    emergency_suspend(customer=customer, operator=make_operator().user, reason="申告あり", ip=None)
    question = secret_question_pick(customer=customer)
    assert question is not None
    outcome = lift_request(
        customer=customer,
        operator=make_operator().user,
        reason=REASON,
        token_action="resume",
        check=verified_check(secret_question_id=question.pk, secret_answer="ちがう答え"),
        ip=None,
    )
    assert not outcome.ok
    assert "追加認証の回答が正しくない" in outcome.message
    assert IdentityCheck.objects.get().secret_answer_ok is False
    counter = FailureCounter.objects.get(
        kind=lockout.SECRET_ANSWER, subject=lockout.subject_for_customer(customer)
    )
    assert counter.consecutive_failures == 1
    # The answer itself is nowhere in the trail.
    assert not AuditRecord.objects.filter(data__icontains="ちがう答え").exists()


def test_a_right_secret_answer_counts_as_one_item() -> None:
    customer = make_customer(questions=QUESTIONS)
    emergency_suspend(customer=customer, operator=make_operator().user, reason="申告あり", ip=None)
    question = secret_question_pick(customer=customer)
    assert question is not None
    answer = dict(QUESTIONS)[question.question]
    outcome = lift_request(
        customer=customer,
        operator=make_operator().user,
        reason=REASON,
        token_action="resume",
        check=verified_check(
            items=["address"], secret_question_id=question.pk, secret_answer=answer
        ),
        ip=None,
    )
    assert outcome.ok
    assert IdentityCheck.objects.get().secret_answer_ok is True


def test_only_one_pending_request_per_customer(suspended: Customer) -> None:
    ask(suspended, make_operator().user)
    with pytest.raises(ActionError, match="承認待ち"):
        ask(suspended, make_operator().user)


def test_an_active_customer_cannot_be_lifted() -> None:
    with pytest.raises(ActionError, match="停止されていません"):
        ask(make_customer(), make_operator().user)


def test_an_old_request_must_be_asked_again(suspended: Customer) -> None:
    request = ask(suspended, make_operator().user)
    clock.advance(24 * 3600 + 1)
    with pytest.raises(ActionError, match="有効期限"):
        lift_approve(
            request_id=request.pk,
            supervisor=make_operator("supervisor").user,
            note="承認します",
            ip=None,
        )
    suspended.refresh_from_db()
    assert suspended.status == Customer.Status.SUSPENDED


def test_reject_and_withdraw(suspended: Customer) -> None:
    asker = make_operator()
    sup = make_operator("supervisor")
    request = ask(suspended, asker.user)
    with pytest.raises(ActionError):
        lift_withdraw(request_id=request.pk, operator=sup.user, note="他人の取下げ", ip=None)
    lift_reject(request_id=request.pk, supervisor=sup.user, note="確認内容が不十分", ip=None)
    request.refresh_from_db()
    assert request.state == LiftRequest.State.REJECTED
    with pytest.raises(ActionError, match="すでに処理"):
        lift_approve(request_id=request.pk, supervisor=sup.user, note="承認します", ip=None)
    second = ask(suspended, asker.user)
    lift_withdraw(request_id=second.pk, operator=asker.user, note="依頼の取消", ip=None)
    second.refresh_from_db()
    assert second.state == LiftRequest.State.WITHDRAWN
    suspended.refresh_from_db()
    assert suspended.status == Customer.Status.SUSPENDED


def test_the_four_eyes_flow_in_the_console(suspended: Customer) -> None:
    asker = make_operator("supervisor")
    approver = make_operator("supervisor")
    plain = make_operator()
    c_asker = operator_login(asker)
    r = c_asker.post(
        f"/helpdesk/customers/{suspended.pk}/lift/", identity_post(token_action="resume")
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    request = LiftRequest.objects.get()
    url = f"/helpdesk/lift-requests/{request.pk}/"
    # The asker: no approve button, and a forged approve is refused.
    page = c_asker.get(url).content.decode()
    assert 'value="approve"' not in page
    r = c_asker.post(url, {"action": "approve", "note": "自分で承認する"})
    assert r.status_code == 403
    assert "ご自身が申請した再開は承認できません" in r.content.decode()
    # A plain operator: refused too.
    c_plain = operator_login(plain)
    r = c_plain.post(url, {"action": "approve", "note": "承認してみる"})
    assert r.status_code == 403
    suspended.refresh_from_db()
    assert suspended.status == Customer.Status.SUSPENDED
    # Another supervisor: approved.
    c_approver = operator_login(approver)
    assert 'value="approve"' in c_approver.get(url).content.decode()
    r = c_approver.post(url, {"action": "approve", "note": "記録を確認し承認"})
    assert r.status_code == 302
    suspended.refresh_from_db()
    assert suspended.status == Customer.Status.ACTIVE


def test_the_decision_form_refuses_bad_input(suspended: Customer) -> None:
    request = ask(suspended, make_operator().user)
    client = operator_login(make_operator("supervisor"))
    url = f"/helpdesk/lift-requests/{request.pk}/"
    for data in [
        {},
        {"action": "approve"},
        {"action": "nuke", "note": "理由の記入"},
        {"action": "approve", "note": "x"},
    ]:
        r = client.post(url, data)
        assert r.status_code == 400, data
        assert "入力内容をご確認ください" in r.content.decode()
    assert client.get("/helpdesk/lift-requests/99999/").status_code == 404
    suspended.refresh_from_db()
    assert suspended.status == Customer.Status.SUSPENDED


def test_the_lift_request_form_refuses_bad_input(suspended: Customer) -> None:
    client = operator_login(make_operator())
    url = f"/helpdesk/customers/{suspended.pk}/lift/"
    bad = [
        {},
        identity_post(),  # no token action
        identity_post(token_action="keep"),
        identity_post(token_action="resume", method="email"),
        identity_post(token_action="resume", items=["favourite_colour"]),
        identity_post(token_action="resume", items=["address"]),  # too few for verified
        identity_post(token_action="resume", note=""),
        identity_post(token_action="resume", reason=""),
        identity_post(token_action="resume", question_id="abc"),
        identity_post(token_action="resume", secret_answer="x" * 40),
    ]
    for data in bad:
        r = client.post(url, data)
        assert r.status_code == 400, data
        assert "入力内容をご確認ください" in r.content.decode(), data
    assert not LiftRequest.objects.exists()
    Client()  # nothing else


@pytest.mark.parametrize(
    ("choice", "japanese", "english"),
    [
        (LiftRequest.State.PENDING, "承認待ち", "Awaiting approval"),
        (
            LiftRequest.TokenAction.RESUME,
            "現在のトークンの利用を再開する",
            "Resume the current token",
        ),
        (
            IdentityCheck.Method.CALLBACK,
            "登録電話番号への折り返し電話",
            "Call back to the registered phone number",
        ),
        (IdentityCheck.Result.FAILED, "本人確認できず", "Identity not confirmed"),
    ],
)
def test_console_choices_read_in_the_operators_language(
    choice: object, japanese: str, english: str
) -> None:
    with translation.override("ja"):
        assert str(choice.label) == japanese  # type: ignore[attr-defined]
    with translation.override("en"):
        assert str(choice.label) == english  # type: ignore[attr-defined]


def test_identity_items_read_in_the_operators_language() -> None:
    with translation.override("ja"):
        assert str(IDENTITY_ITEMS["address"]) == "登録住所"
    with translation.override("en"):
        assert str(IDENTITY_ITEMS["address"]) == "Registered address"
        assert str(IDENTITY_ITEMS["name_birthdate"]) == "Name and date of birth"
