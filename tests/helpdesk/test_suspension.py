"""緊急利用停止: one step ends sessions on every process, suspends tokens, voids
Direct-login URLs, cancels scheduled transfers and mails the customer."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pyotp
import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.errors import CustomerNotActiveError
from netbank.banking.models import SigningChallenge, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import furikomi_order, transfer_execute, transfer_schedule
from netbank.customers.models import Customer
from netbank.customers.suspension import customer_suspend, suspension_steps
from netbank.helpdesk.services import ActionError, emergency_suspend
from netbank.notifications.models import OutboxMail
from netbank.otp.direct_login.services import direct_login_open, ticket_hash
from netbank.otp.models import DirectLoginTicket, Token
from tests.helpdesk.factories import (
    account_for,
    customer_logged_in,
    customer_login,
    in_use_token,
    issue_token,
    make_customer,
    make_operator,
    new_key,
    operator_login,
    other_bank,
)
from tests.otp.factories import SEED

pytestmark = pytest.mark.django_db

REASON = "お客さまから不正送金の申告（電話）"


def login_with_otp(customer: Customer, client: Client | None = None) -> Client:
    client = client or Client(REMOTE_ADDR="198.51.100.30")
    r = client.post("/", {"login_id": customer.login_id, "password": "Passw0rd2026"})
    assert r.status_code == 302
    code = pyotp.TOTP(base64.b32encode(SEED).decode()).at(clock.now())
    r = client.post("/login/otp/", {"code": code})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert r["Location"] == "/top/"
    return client


def scheduled_transfer(customer: Customer) -> Transfer:
    account = account_for(customer)
    payee_seed(customer=customer, destination=other_bank())
    order = furikomi_order(
        customer=customer,
        from_account_id=account.pk,
        amount=10_000,
        destination=other_bank(),
        scheduled_for=date(2026, 12, 1),
    )
    return transfer_schedule(customer=customer, order=order, idempotency_key=new_key()).transfer


def open_ticket(customer: Customer, token: Token) -> str:
    ticket = "A" * 43
    DirectLoginTicket.objects.create(
        customer=customer,
        token=token,
        token_hash=ticket_hash(ticket),
        security_counter=customer.security_counter,
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(seconds=60),
    )
    return ticket


def open_challenge(customer: Customer, token: Token) -> SigningChallenge:
    return SigningChallenge.objects.create(
        customer=customer,
        token=token,
        purpose=SigningChallenge.Purpose.TRANSFER,
        challenge="12345678",
        challenge_hash="h" * 64,
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(minutes=5),
    )


def test_the_apps_register_their_suspension_steps() -> None:
    names = {step.__name__ for step in suspension_steps()}
    assert names == {"tokens_suspend", "direct_login_void", "transfers_void_for_suspension"}


def test_emergency_suspension_does_everything_in_one_step() -> None:
    customer = make_customer()
    token = in_use_token(customer, seed=SEED)
    pending = issue_token(customer)
    browser_a = login_with_otp(customer)
    clock.advance(30)
    browser_b = login_with_otp(customer, Client(REMOTE_ADDR="198.51.100.31"))
    transfer = scheduled_transfer(customer)
    ticket = open_ticket(customer, token)
    challenge = open_challenge(customer, token)
    op = make_operator()
    mails_before = OutboxMail.objects.count()

    outcome = emergency_suspend(customer=customer, operator=op.user, reason=REASON, ip="192.0.2.10")

    assert outcome.suspended_now
    customer.refresh_from_db()
    assert customer.status == Customer.Status.SUSPENDED
    token.refresh_from_db()
    pending.refresh_from_db()
    assert token.state == Token.State.SUSPENDED
    assert pending.state == Token.State.VOIDED
    assert pending.activation_ciphertext is None
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.CANCELLED
    challenge.refresh_from_db()
    assert challenge.expires_at <= clock.now()
    assert direct_login_open(ticket=ticket, ip=None) is None
    # Both browsers (two processes would see the same rows) are out on their next request.
    for browser in (browser_a, browser_b):
        r = browser.get("/top/")
        assert r.status_code == 302
        assert r["Location"] == "/?ended=suspended"
    mails = OutboxMail.objects.order_by("id")[mails_before:]
    purposes = [m.purpose for m in mails]
    assert "security_suspended_notice" in purposes
    assert "transfer_cancelled_notice" in purposes
    notice = next(m for m in mails if m.purpose == "security_suspended_notice")
    assert notice.to_addr == customer.email
    assert "ヘルプデスクへのご連絡により" in notice.body
    assert outcome.counts == {
        "tokens_suspended": 1,
        "token_issues_voided": 1,
        "direct_login_urls_voided": 1,
        "scheduled_transfers_cancelled": 1,
        "signing_challenges_expired": 1,
    }
    rec = AuditRecord.objects.get(event="helpdesk.emergency_suspend")
    assert rec.operator_id == op.user.pk
    assert rec.customer_id == customer.pk
    assert rec.data["reason"] == REASON
    assert AuditRecord.objects.filter(
        event="customer.suspended", customer_id=customer.pk, operator_id=op.user.pk
    ).exists()


def test_a_customer_active_on_another_process_fails_on_the_very_next_request() -> None:
    """Two test clients with their own cookies stand for two app processes: all state is
    in the database, so the second process learns of the suspension on its next read."""
    customer = make_customer()
    account = account_for(customer)
    payee_seed(customer=customer, destination=other_bank())
    process_b = customer_login(customer)
    assert customer_logged_in(process_b)
    process_a = operator_login(make_operator())
    r = process_a.get(f"/helpdesk/customers/{customer.pk}/")
    assert "ログイン中のセッション" in r.content.decode()
    r = process_a.post(
        f"/helpdesk/customers/{customer.pk}/suspend/", {"reason": REASON, "confirm": "on"}
    )
    assert r.status_code == 302
    r = process_b.get("/top/")
    assert r["Location"] == "/?ended=suspended"
    # And whatever it still holds, it cannot move money.
    order = furikomi_order(
        customer=customer, from_account_id=account.pk, amount=1_000, destination=other_bank()
    )
    with pytest.raises(CustomerNotActiveError):
        transfer_execute(customer=customer, order=order, idempotency_key=new_key())


def test_a_suspended_customer_cannot_log_in_again() -> None:
    customer = make_customer()
    emergency_suspend(customer=customer, operator=make_operator().user, reason=REASON, ip=None)
    r = Client().post("/", {"login_id": customer.login_id, "password": "Passw0rd2026"})
    assert r.status_code == 400
    assert "停止されています" in r.content.decode()


def test_suspension_needs_a_reason_and_changes_nothing_without_one() -> None:
    customer = make_customer()
    op = make_operator()
    for reason in ["", "   ", "ab", "x" * 501]:
        with pytest.raises(ActionError):
            emergency_suspend(customer=customer, operator=op.user, reason=reason, ip=None)
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert not AuditRecord.objects.filter(event__startswith="helpdesk.emergency").exists()


def test_someone_without_a_console_role_cannot_suspend() -> None:
    customer = make_customer()
    op = make_operator()
    op.user.groups.clear()
    with pytest.raises(ActionError):
        emergency_suspend(customer=customer, operator=op.user, reason=REASON, ip=None)
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE


def test_suspending_twice_changes_nothing_more_and_mails_once() -> None:
    customer = make_customer()
    op = make_operator()
    emergency_suspend(customer=customer, operator=op.user, reason=REASON, ip=None)
    customer.refresh_from_db()
    counter = customer.security_counter
    outcome = emergency_suspend(customer=customer, operator=op.user, reason=REASON, ip=None)
    assert not outcome.suspended_now
    customer.refresh_from_db()
    assert customer.security_counter == counter
    assert OutboxMail.objects.filter(purpose="security_suspended_notice").count() == 1


def test_a_failing_step_rolls_the_whole_suspension_back(monkeypatch: pytest.MonkeyPatch) -> None:
    customer = make_customer()
    token = in_use_token(customer)

    def broken(**_: object) -> dict[str, int]:
        raise IntegrityError("simulated failure in the last step")

    from netbank.customers import suspension

    monkeypatch.setattr(suspension, "_steps", [*suspension._steps, broken])
    with pytest.raises(IntegrityError):
        customer_suspend(customer=customer, source="helpdesk", reason=REASON)
    customer.refresh_from_db()
    token.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert token.state == Token.State.IN_USE
    assert not OutboxMail.objects.filter(purpose="security_suspended_notice").exists()


def test_the_console_suspension_form_refuses_bad_input_with_a_message() -> None:
    customer = make_customer()
    client = operator_login(make_operator())
    url = f"/helpdesk/customers/{customer.pk}/suspend/"
    for data in [
        {},
        {"reason": REASON},  # no confirmation
        {"reason": "", "confirm": "on"},
        {"reason": "x" * 600, "confirm": "on"},
        {"reason": "\x00" * 10, "confirm": "on"},
    ]:
        r = client.post(url, data)
        assert r.status_code == 400, data
        assert "入力内容をご確認ください" in r.content.decode()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert client.get("/helpdesk/customers/999999/suspend/").status_code == 404


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_transfer_waiting_behind_the_suspension_is_refused_when_it_commits() -> None:
    import threading

    from django.db import connections

    from tests.banking.test_concurrency import wait_until_a_session_waits_for_a_lock

    assert connection.vendor == "postgresql"
    customer = make_customer()
    account = account_for(customer, 100_000)
    payee_seed(customer=customer, destination=other_bank())
    order = furikomi_order(
        customer=customer, from_account_id=account.pk, amount=10_000, destination=other_bank()
    )
    op = make_operator()
    results: list[str] = []

    def transfer() -> None:
        try:
            transfer_execute(customer=customer, order=order, idempotency_key=new_key())
            results.append("transferred")
        except CustomerNotActiveError:
            results.append("refused")
        finally:
            connections.close_all()

    with transaction.atomic():
        emergency_suspend(customer=customer, operator=op.user, reason=REASON, ip=None)
        # The suspension holds the customer row lock until this block commits.
        thread = threading.Thread(target=transfer)
        thread.start()
        wait_until_a_session_waits_for_a_lock()
        assert results == []
    thread.join(30)
    assert results == ["refused"]
    account.refresh_from_db()
    assert account.balance == 100_000
