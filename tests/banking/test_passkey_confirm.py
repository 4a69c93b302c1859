"""Confirming 振込, 登録先 and 振込限度額 with a passkey: the assertion is bound to the
operation's canonical form, rebuilt by the bank from its own record, so an assertion made
for one operation confirms no other. Assertions come from a software authenticator
(tests/banking/softauthn.py) through the real passkey services."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.confirmation import operation_canonical, operation_digest, passkey_options
from netbank.banking.destination import Destination
from netbank.banking.errors import NewTokenHoldError, SigningRejectedError, SigningRequiredError
from netbank.banking.limits import daily_limit, limit_change
from netbank.banking.models import Account, Payee, SigningChallenge, Transfer
from netbank.banking.payees import payee_register
from netbank.banking.signing import signing_challenge
from netbank.banking.transfers import TransferOrder, furikomi_order, transfer_execute
from netbank.customers.models import Customer
from netbank.passkeys import services as passkeys
from netbank.passkeys.models import Passkey
from tests.banking.factories import (
    TRANSACTION_PASSWORD,
    customer_with_account,
    issue_token,
    login,
    open_account,
    other_bank,
    sign,
)
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db

TRANSFER = SigningChallenge.Purpose.TRANSFER
PAYEE = SigningChallenge.Purpose.PAYEE
LIMIT = SigningChallenge.Purpose.LIMIT


def key() -> str:
    return secrets.token_urlsafe(32)


RP_ID = "bank.example.jp"
ORIGIN = "https://bank.example.jp"


@pytest.fixture(autouse=True)
def _relying_party(settings: Settings) -> None:
    settings.NETBANK_PUBLIC_URL = ORIGIN
    settings.NETBANK_WEBAUTHN_RP_ID = ""
    settings.NETBANK_WEBAUTHN_ORIGINS = []
    settings.NETBANK_PASSKEY_REQUIRED = False


def with_passkey(
    customer: Customer, *, age: timedelta = timedelta(days=2), payment: bool = False
) -> SoftAuthenticator:
    """Register a passkey through the real service (after the view's OTP and password
    checks, which these tests do not need), registered ``age`` ago (past the hold);
    ``payment``: as passkey.js registers it on a browser with Secure Payment Confirmation."""
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    options = passkeys.registration_options(customer=customer)
    response = authenticator.create(options)
    if payment:
        response["netbankPayment"] = True
    passkeys.register(customer=customer, response=response, name="テスト端末", ip=None)
    Passkey.objects.filter(customer=customer).update(created_at=clock.now() - age)
    return authenticator


def bank_customer(*, payment: bool = False) -> tuple[Customer, Account, SoftAuthenticator]:
    customer, account = customer_with_account(1_000_000)
    issue_token(customer)
    return customer, account, with_passkey(customer, payment=payment)


def web_customer() -> tuple[Customer, Account, SoftAuthenticator, Client]:
    """A bank customer logged in through the screens (ID, password, OTP)."""
    customer, account = customer_with_account(1_000_000)
    token, _key = issue_token(customer)
    authenticator = with_passkey(customer)
    return customer, account, authenticator, login(customer, token)


def new_payee_order(
    customer: Customer, account: Account, amount: int = 50_000, **changes: Any
) -> TransferOrder:
    return furikomi_order(
        customer=customer,
        from_account_id=account.pk,
        amount=amount,
        destination=changes.get("destination", other_bank()),
        scheduled_for=changes.get("scheduled_for"),
    )


def register_payee(customer: Customer, draft_key: str, response: dict[str, Any]) -> Payee:
    """登録先の登録 of ``other_bank()`` confirmed with the passkey's ``response``."""
    return payee_register(
        customer=customer,
        destination=other_bank(),
        challenge_id=None,
        signing_code=None,
        draft_key=draft_key,
        passkey_response=response,
    )


def transfer_options(
    customer: Customer, account: Account, order: TransferOrder, draft_key: str
) -> dict[str, Any]:
    return passkey_options(
        customer=customer,
        purpose=TRANSFER,
        draft_key=draft_key,
        destination=order.destination,
        amount=order.amount,
        debit_account=account,
        scheduled_for=order.scheduled_for,
    )


def transfer_assertion(
    authenticator: SoftAuthenticator,
    customer: Customer,
    account: Account,
    order: TransferOrder,
    draft_key: str,
) -> dict[str, Any]:
    """What the browser answers on the 確認 screen of ``order``."""
    return authenticator.get(transfer_options(customer, account, order, draft_key))


# --- the canonical form ---------------------------------------------------------------


def _canonical(**changes: Any) -> bytes:
    class Debit:
        branch_code = changes.pop("debit_branch", "001")
        account_number = changes.pop("debit_number", "1234567")

    operation: dict[str, Any] = {
        "purpose": TRANSFER,
        "draft_key": "k" * 43,
        "destination": other_bank(),
        "amount": 50_000,
        "debit_account": Debit(),
        "scheduled_for": None,
    }
    operation.update(changes)
    return operation_canonical(**operation)


def test_canonical_form_is_the_signing_question_without_nonce_plus_the_draft() -> None:
    assert _canonical() == (
        b"netbank-passkey-operation/1\x00"
        + b"1000512317654321000000050000001123456700000000"
        + b"\x00"
        + b"k" * 43
    )


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 50_001},
        {"destination": other_bank(account_number="7654322")},
        {"destination": other_bank(branch="124")},
        {"destination": Destination("0006", "123", "ordinary", "7654321", "ｽｽﾞｷ ﾊﾅｺ")},
        {"destination": Destination("0005", "123", "current", "7654321", "ｽｽﾞｷ ﾊﾅｺ")},
        {"debit_number": "1234568"},
        {"debit_branch": "002"},
        {"scheduled_for": date(2026, 12, 1)},
        {"draft_key": "j" * 43},
    ],
)
def test_every_bound_field_changes_the_operation(change: dict[str, Any]) -> None:
    assert _canonical(**change) != _canonical()


def test_the_payee_name_is_not_bound_as_in_the_signing_question() -> None:
    # The money goes by account number; the name is shown, not signed (docs/banking.md §4).
    assert _canonical(destination=other_bank(name="ﾀﾅｶ ｲﾁﾛｳ")) == _canonical()


def test_purposes_never_share_an_operation() -> None:
    payee = operation_canonical(purpose=PAYEE, draft_key="k" * 43, destination=other_bank())
    limit = operation_canonical(purpose=LIMIT, draft_key="k" * 43, amount=50_000)
    assert len({payee, limit, _canonical()}) == 3
    assert operation_digest(purpose=LIMIT, draft_key="k" * 43, amount=50_000) != (
        operation_digest(purpose=LIMIT, draft_key="k" * 43, amount=50_001)
    )


def test_an_operation_without_its_draft_is_refused() -> None:
    with pytest.raises(ValueError, match="draft"):
        _canonical(draft_key="")


# --- 振込 -------------------------------------------------------------------------------


def test_passkey_confirms_a_transfer_to_a_new_payee() -> None:
    customer, account, authenticator = bank_customer()
    order = new_payee_order(customer, account)
    draft = key()
    result = transfer_execute(
        customer=customer,
        order=order,
        idempotency_key=draft,
        passkey_response=transfer_assertion(authenticator, customer, account, order, draft),
    )
    assert result.transfer.state == Transfer.State.COMPLETED
    assert result.transfer.signed
    assert AuditRecord.objects.filter(event="banking.passkey.accepted").count() == 1


@pytest.mark.parametrize(
    "other",
    [
        {"amount": 50_001},
        {"destination": other_bank(account_number="7777777")},
        {"debit": True},
        {"scheduled_for": True},
        {"draft": True},
    ],
    ids=["amount", "payee", "debit-account", "date", "draft"],
)
def test_an_assertion_for_operation_a_does_not_confirm_operation_b(other: dict[str, Any]) -> None:
    customer, account, authenticator = bank_customer()
    second = open_account(customer, balance=1_000_000)
    order_a = new_payee_order(customer, account)
    draft_a = key()
    assertion = transfer_assertion(authenticator, customer, account, order_a, draft_a)
    # Operation B: the same but for one field (what malware or a phisher would switch).
    order_b, draft_b = order_a, draft_a
    if "amount" in other:
        order_b = new_payee_order(customer, account, amount=other["amount"])
    if "destination" in other:
        order_b = new_payee_order(customer, account, destination=other["destination"])
    if "debit" in other:
        order_b = new_payee_order(customer, second)
    if "scheduled_for" in other:
        order_b = new_payee_order(customer, account, scheduled_for=date(2026, 11, 30))
    if "draft" in other:
        draft_b = key()
    submit = transfer_execute if order_b.scheduled_for is None else _schedule
    with pytest.raises(SigningRejectedError):
        submit(
            customer=customer, order=order_b, idempotency_key=draft_b, passkey_response=assertion
        )
    assert not Transfer.objects.exists()
    assert AuditRecord.objects.filter(event="banking.passkey.rejected").count() == 1
    # The assertion still confirms the operation it was made for (nothing consumed it).
    result = transfer_execute(
        customer=customer, order=order_a, idempotency_key=draft_a, passkey_response=assertion
    )
    assert result.transfer.amount == 50_000


def _schedule(**kwargs: Any) -> Any:
    from netbank.banking.transfers import transfer_schedule

    return transfer_schedule(**kwargs)


def test_an_assertion_confirms_once() -> None:
    customer, account, authenticator = bank_customer()
    order = new_payee_order(customer, account, amount=10_000)
    draft = key()
    assertion = transfer_assertion(authenticator, customer, account, order, draft)
    transfer_execute(
        customer=customer, order=order, idempotency_key=draft, passkey_response=assertion
    )
    # The same operation again under a new draft, with the old assertion: refused.
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=customer, order=order, idempotency_key=key(), passkey_response=assertion
        )
    assert Transfer.objects.count() == 1


def test_a_customer_with_a_passkey_is_asked_for_it_not_for_nothing() -> None:
    customer, account, _authenticator = bank_customer()
    with pytest.raises(SigningRequiredError, match="パスキー"):
        transfer_execute(
            customer=customer, order=new_payee_order(customer, account), idempotency_key=key()
        )
    assert not Transfer.objects.exists()


def test_new_payees_wait_24_hours_after_a_passkey_registration() -> None:
    customer, account = customer_with_account(1_000_000)
    issue_token(customer)
    with_passkey(customer, age=timedelta(hours=1))
    with pytest.raises(NewTokenHoldError, match="パスキーの登録から24時間"):
        new_payee_order_checked(customer, account)
    clock.advance(23 * 3600 + 1)
    new_payee_order_checked(customer, account)


def new_payee_order_checked(customer: Customer, account: Account) -> None:
    from netbank.banking.transfers import transfer_requirements

    transfer_requirements(customer=customer, order=new_payee_order(customer, account))


def test_the_signing_code_still_works_for_a_passkey_customer_unless_passkeys_are_required() -> None:
    customer, account = customer_with_account(1_000_000)
    _token, signing_key = issue_token(customer)
    with_passkey(customer)
    order = new_payee_order(customer, account)

    def signed_transfer() -> Transfer:
        challenge = signing_challenge(
            customer=customer,
            purpose=TRANSFER,
            destination=order.destination,
            amount=order.amount,
            debit_account=account,
        )
        return transfer_execute(
            customer=customer,
            order=order,
            idempotency_key=key(),
            challenge_id=challenge.pk,
            signing_code=sign(challenge, signing_key),
        ).transfer

    with override_settings(NETBANK_PASSKEY_REQUIRED=True):
        with pytest.raises(SigningRequiredError, match="パスキーで"):
            signed_transfer()
        assert not Transfer.objects.exists()
    assert signed_transfer().state == Transfer.State.COMPLETED


# --- 登録先 and 振込限度額 ---------------------------------------------------------------


def test_passkey_registers_a_payee_and_raises_the_limit_but_not_one_for_the_other() -> None:
    customer, _account, authenticator = bank_customer()
    payee_draft, limit_draft = key(), key()
    payee_assertion = authenticator.get(
        passkey_options(
            customer=customer, purpose=PAYEE, draft_key=payee_draft, destination=other_bank()
        )
    )
    limit_assertion = authenticator.get(
        passkey_options(customer=customer, purpose=LIMIT, draft_key=limit_draft, amount=3_000_000)
    )
    # Each presented for the other operation: refused, nothing changed.
    with pytest.raises(SigningRejectedError):
        limit_change(
            customer=customer,
            new_limit=3_000_000,
            draft_key=limit_draft,
            passkey_response=payee_assertion,
        )
    with pytest.raises(SigningRejectedError):
        register_payee(customer, payee_draft, limit_assertion)
    # A higher limit than the one confirmed: refused.
    with pytest.raises(SigningRejectedError):
        limit_change(
            customer=customer,
            new_limit=9_000_000,
            draft_key=limit_draft,
            passkey_response=limit_assertion,
        )
    assert not Payee.objects.exists()
    assert daily_limit(customer) == 1_000_000
    register_payee(customer, payee_draft, payee_assertion)
    limit_change(
        customer=customer,
        new_limit=3_000_000,
        draft_key=limit_draft,
        passkey_response=limit_assertion,
    )
    assert Payee.objects.filter(customer=customer).count() == 1
    assert daily_limit(customer) == 3_000_000


# --- the screens --------------------------------------------------------------------------


def test_confirm_screen_offers_the_passkey_and_a_posted_assertion_completes_the_transfer() -> None:
    customer, account, authenticator, client = web_customer()
    r = client.post(
        reverse("banking:furikomi_input"),
        {
            "from_account": str(account.pk),
            "amount": "50000",
            "scheduled_for": "",
            **other_bank().as_dict(),
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    page = client.get(reverse("banking:transfer_confirm")).content.decode()
    assert "data-passkey-options" in page
    assert "パスキーで確認して確定する" in page
    assert 'name="signing_code"' not in page
    assert "<script>" not in page  # no inline script: the module is a file
    draft = client.session["banking.transfer_draft"]
    order = TransferOrder.from_dict(draft["order"])
    assertion = transfer_assertion(authenticator, customer, account, order, draft["key"])
    r = client.post(
        reverse("banking:transfer_confirm"),
        {
            "idempotency_key": draft["key"],
            "transaction_password": TRANSACTION_PASSWORD,
            "passkey_response": _json(assertion),
            "action": "confirm",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    transfer = Transfer.objects.get()
    assert r["Location"] == reverse("banking:transfer_done", args=[transfer.pk])


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data)


def test_a_broken_assertion_gets_a_message_not_an_error() -> None:
    _customer, account, _authenticator, client = web_customer()
    client.post(
        reverse("banking:furikomi_input"),
        {"from_account": str(account.pk), "amount": "50000", **other_bank().as_dict()},
    )
    draft = client.session["banking.transfer_draft"]
    for junk in ["not json", "[1,2]", '{"id": "\\ud800"}', '{"id": "x"}']:
        r = client.post(
            reverse("banking:transfer_confirm"),
            {
                "idempotency_key": draft["key"],
                "transaction_password": TRANSACTION_PASSWORD,
                "passkey_response": junk,
                "action": "confirm",
            },
        )
        assert r.status_code == 400
        assert "パスキー" in r.content.decode()
    assert not Transfer.objects.exists()


# --- passkey required: login --------------------------------------------------------------


def _password_login(customer: Customer) -> Any:
    from tests.banking.factories import PASSWORD

    return Client().post(
        reverse("customers:login"), {"login_id": customer.login_id, "password": PASSWORD}
    )


def test_passkey_required_refuses_the_otp_login_of_a_customer_with_a_passkey() -> None:
    customer, _account, _authenticator = bank_customer()
    plain, _account2 = customer_with_account()
    with override_settings(NETBANK_PASSKEY_REQUIRED=True):
        r = _password_login(customer)
        assert r.status_code == 400
        body = r.content.decode()
        assert "パスキーでログインしてください" in body
        assert "ヘルプデスク" in body
        assert AuditRecord.objects.filter(
            event="login.refused_passkey_required", customer_id=customer.pk
        ).exists()
        # A customer without a passkey logs in as before.
        assert _password_login(plain).status_code == 302
    # The setting off (the default): the OTP login works for everyone.
    assert _password_login(customer).status_code == 302


def test_a_helpdesk_recovery_lets_exactly_one_otp_login_through() -> None:
    from netbank.customers.login_policy import login_recovery_grant

    customer, _account, _authenticator = bank_customer()
    with override_settings(NETBANK_PASSKEY_REQUIRED=True):
        login_recovery_grant(customer=customer, operator_id=1)
        assert _password_login(customer).status_code == 302
        assert _password_login(customer).status_code == 400
    assert AuditRecord.objects.filter(event="login.recovery_used").count() == 1


def test_a_recovery_expires() -> None:
    from netbank.customers.login_policy import login_recovery_grant

    customer, _account, _authenticator = bank_customer()
    with override_settings(NETBANK_PASSKEY_REQUIRED=True):
        login_recovery_grant(customer=customer, operator_id=1)
        clock.advance(24 * 3600 + 1)
        assert _password_login(customer).status_code == 400


def test_an_expired_confirmation_says_so_and_is_not_counted() -> None:
    from netbank.customers import lockout

    customer, account, authenticator = bank_customer()
    order = new_payee_order(customer, account)
    draft = key()
    assertion = transfer_assertion(authenticator, customer, account, order, draft)
    clock.advance(301)
    with pytest.raises(SigningRejectedError, match="有効期限"):
        transfer_execute(
            customer=customer, order=order, idempotency_key=draft, passkey_response=assertion
        )
    status = lockout.lockout_status(
        kind=lockout.OTP, subject=lockout.subject_for_customer(customer)
    )
    assert status.failures == 0
    assert not Transfer.objects.exists()


def test_wrong_assertions_lock_with_the_customers_credential_failures() -> None:
    customer, account, authenticator = bank_customer()
    order_a = new_payee_order(customer, account)
    order_b = new_payee_order(customer, account, amount=60_000)
    for _attempt in range(5):
        draft = key()
        assertion = transfer_assertion(authenticator, customer, account, order_a, draft)
        with pytest.raises(SigningRejectedError):
            transfer_execute(
                customer=customer, order=order_b, idempotency_key=draft, passkey_response=assertion
            )
    # Locked now: even the right assertion is refused, with the lock message.
    draft = key()
    assertion = transfer_assertion(authenticator, customer, account, order_a, draft)
    with pytest.raises(SigningRejectedError, match="ヘルプデスク"):
        transfer_execute(
            customer=customer, order=order_a, idempotency_key=draft, passkey_response=assertion
        )
    assert not Transfer.objects.exists()


def test_passkey_required_refuses_direct_login_too(settings: Settings) -> None:
    from django.conf import settings as django_settings

    from netbank.otp.direct_login.services import DirectLoginResult, direct_login_begin
    from tests.banking.factories import PASSWORD, current_otp

    customer, _account = customer_with_account()
    token, _key = issue_token(customer)
    with_passkey(customer)

    def direct() -> DirectLoginResult:
        clock.advance(30)  # a fresh OTP step each time
        return direct_login_begin(
            service_id=str(django_settings.NETBANK_OTP["service_id"]),
            user_id=token.user_id,
            login_id=customer.login_id,
            password=PASSWORD,
            code=current_otp(token),
            ip=None,
        ).result

    settings.NETBANK_PASSKEY_REQUIRED = True
    assert direct() is DirectLoginResult.FAILED
    assert AuditRecord.objects.filter(
        event="login.refused_passkey_required", data__channel="direct"
    ).exists()
    settings.NETBANK_PASSKEY_REQUIRED = False
    assert direct() is DirectLoginResult.OK


def test_the_confirm_screen_switches_to_the_signing_code_only_where_allowed(
    settings: Settings,
) -> None:
    _customer, account, _authenticator, client = web_customer()
    client.post(
        reverse("banking:furikomi_input"),
        {"from_account": str(account.pk), "amount": "50000", **other_bank().as_dict()},
    )
    url = reverse("banking:transfer_confirm")
    settings.NETBANK_PASSKEY_REQUIRED = True
    page = client.get(url).content.decode()
    assert 'value="use_signing"' not in page
    client.post(url, {"action": "use_signing"})
    page = client.get(url).content.decode()
    assert 'name="signing_code"' not in page
    assert "data-passkey-options" in page
    settings.NETBANK_PASSKEY_REQUIRED = False
    r = client.post(url, {"action": "use_signing"})
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert 'name="signing_code"' in page
    assert "data-passkey-options" not in page
    assert 'value="use_passkey"' in page
    client.post(url, {"action": "use_passkey"})
    assert "data-passkey-options" in client.get(url).content.decode()


def test_payee_and_limit_screens_confirm_with_the_passkey() -> None:
    customer, _account, authenticator, client = web_customer()
    r = client.post(
        reverse("banking:payee_add"), {**other_bank().as_dict(), "nickname": "花子さん"}
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    page = client.get(reverse("banking:payee_confirm")).content.decode()
    assert "data-passkey-options" in page
    assert 'name="signing_code"' not in page
    draft = client.session["banking.payee_draft"]
    assertion = authenticator.get(
        passkey_options(
            customer=customer,
            purpose=PAYEE,
            draft_key=draft["key"],
            destination=Destination.from_dict(draft["destination"]),
        )
    )
    r = client.post(
        reverse("banking:payee_confirm"),
        {
            "idempotency_key": draft["key"],
            "transaction_password": TRANSACTION_PASSWORD,
            "passkey_response": _json(assertion),
            "action": "confirm",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Payee.objects.filter(customer=customer, account_number="7654321").exists()

    r = client.post(reverse("banking:limit"), {"new_limit": "3,000,000"})
    assert r.status_code == 302, r.content.decode()[:2000]
    page = client.get(reverse("banking:limit_confirm")).content.decode()
    assert "data-passkey-options" in page
    draft = client.session["banking.limit_draft"]
    assertion = authenticator.get(
        passkey_options(customer=customer, purpose=LIMIT, draft_key=draft["key"], amount=3_000_000)
    )
    r = client.post(
        reverse("banking:limit_confirm"),
        {
            "idempotency_key": draft["key"],
            "transaction_password": TRANSACTION_PASSWORD,
            "passkey_response": _json(assertion),
            "action": "confirm",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert daily_limit(customer) == 3_000_000


# --- Secure Payment Confirmation ------------------------------------------------------


def test_the_transfer_options_ask_the_browser_to_show_payee_account_and_amount() -> None:
    customer, account, _auth = bank_customer(payment=True)
    order = new_payee_order(customer, account, amount=43_210)
    spc = transfer_options(customer, account, order, key())["spc"]
    destination = order.destination
    assert spc["payeeName"] == destination.name_kana
    assert spc["total"] == {"currency": "JPY", "value": "43210"}
    shown = spc["instrument"]["displayName"]
    for part in (destination.name_kana, destination.bank_code, destination.branch_code):
        assert part in shown
    assert destination.account_number in shown
    assert account.account_number in shown  # the account paid from
    assert spc["instrument"]["icon"].startswith("/static/")  # the bank's own origin
    # 登録先 and 限度額 are no payments: the page shows them, the plain get confirms.
    assert "spc" not in passkey_options(
        customer=customer, purpose=PAYEE, draft_key=key(), destination=other_bank()
    )
    assert "spc" not in passkey_options(
        customer=customer, purpose=LIMIT, draft_key=key(), amount=3_000_000
    )


def test_a_transfer_confirmed_in_the_payment_dialog_executes_the_amount_shown() -> None:
    customer, account, authenticator = bank_customer(payment=True)
    order = new_payee_order(customer, account, amount=43_210)
    draft = key()
    options = transfer_options(customer, account, order, draft)
    result = transfer_execute(
        customer=customer,
        order=order,
        idempotency_key=draft,
        passkey_response=authenticator.pay(options),
    )
    assert result.transfer.state == Transfer.State.COMPLETED
    assert result.transfer.amount == int(options["spc"]["total"]["value"]) == 43_210


@pytest.mark.parametrize(
    "shown",
    [
        {"total": {"currency": "JPY", "value": "4321"}},
        {"payeeName": "ｱｸﾏ ｼﾖｳｼﾞ"},
        {"instrument": {"displayName": "振込先 ｱｸﾏ ｼﾖｳｼﾞ", "icon": ORIGIN + "/static/x.svg"}},
    ],
    ids=["amount", "payee", "instrument"],
)
def test_a_payment_dialog_that_showed_something_else_executes_nothing(
    shown: dict[str, Any],
) -> None:
    customer, account, authenticator = bank_customer(payment=True)
    order = new_payee_order(customer, account, amount=43_210)
    draft = key()
    response = authenticator.pay(transfer_options(customer, account, order, draft), **shown)
    with pytest.raises(SigningRejectedError):
        transfer_execute(
            customer=customer, order=order, idempotency_key=draft, passkey_response=response
        )
    assert not Transfer.objects.exists()


def test_a_payment_assertion_does_not_register_a_payee() -> None:
    customer, _account, authenticator = bank_customer(payment=True)
    draft = key()
    options = passkey_options(
        customer=customer, purpose=PAYEE, draft_key=draft, destination=other_bank()
    )
    response = authenticator.get(
        options,
        kind="payment.get",
        payment={"rpId": RP_ID, "topOrigin": ORIGIN, "total": {"currency": "JPY", "value": "0"}},
    )
    with pytest.raises(SigningRejectedError):
        register_payee(customer, draft, response)
    assert not Payee.objects.exists()
    # The same passkey's plain assertion registers it.
    register_payee(customer, draft, authenticator.get(options))
    assert Payee.objects.count() == 1
