"""Secure Payment Confirmation: passkeys registered for payment, the options' ``spc``
part, and the ``payment.get`` assertion the bank verifies itself (py_webauthn verifies
only ``webauthn.get``) — accepted when it carries what the bank asked the browser to show,
refused for another total, instrument or payee, for a payment.get where no payment was
asked, and when replayed."""

from __future__ import annotations

from typing import Any

import pytest

from netbank.audit.models import AuditRecord
from netbank.customers.models import Customer
from netbank.passkeys import services
from netbank.passkeys.services import PaymentDisplay
from tests.passkeys.authenticator import SoftAuthenticator
from tests.passkeys.support import ORIGIN, RP_ID, otp_failures, registered

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relying_party")]

OPERATION = b"transfer|0001|001|1|1234567|50000"
PAYMENT = PaymentDisplay(
    payee_name="ﾔﾏﾀﾞ ﾀﾛｳ",
    display_name="振込先 ﾔﾏﾀﾞ ﾀﾛｳ（金融機関 0001 支店 001 普通 1234567）",
    amount_jpy=50_000,
    icon="/static/netbank/favicon.svg",
    total_label="振込金額",
)


def options(customer: Customer, payment: PaymentDisplay | None = PAYMENT) -> dict[str, Any]:
    return services.authentication_options(customer=customer, operation=OPERATION, payment=payment)


def confirm(
    customer: Customer, response: dict[str, Any], payment: PaymentDisplay | None = PAYMENT
) -> services.PasskeyOutcome:
    return services.authenticate(
        response=response,
        purpose="confirm",
        customer=customer,
        operation=OPERATION,
        payment=payment,
        ip="203.0.113.1",
    )


def test_registration_records_whether_the_passkey_is_for_payment(customer: Customer) -> None:
    _, for_payment = registered(customer, payment=True)
    _, plain = registered(customer)
    assert for_payment.payment is True
    assert plain.payment is False
    # Only an explicit true counts (the page's JSON, nothing else).
    auth = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN)
    response = auth.create(services.registration_options(customer=customer))
    response["netbankPayment"] = "yes"
    assert (
        services.register(customer=customer, response=response, name="x", ip=None).payment is False
    )


def test_options_offer_spc_only_for_a_payment_and_a_payment_passkey(customer: Customer) -> None:
    registered(customer)
    assert "spc" not in options(customer)
    _, for_payment = registered(customer, payment=True)
    spc = options(customer)["spc"]
    # Only the passkeys registered for payment go to the browser's dialog.
    assert spc["credentialIds"] == [services.b64url(bytes(for_payment.credential_id))]
    assert spc["payeeName"] == PAYMENT.payee_name
    assert spc["instrument"] == {"displayName": PAYMENT.display_name, "icon": PAYMENT.icon}
    assert spc["total"] == {"currency": "JPY", "value": "50000"}
    assert "spc" not in options(customer, payment=None)


def test_a_payment_get_showing_the_payment_is_accepted_once(customer: Customer) -> None:
    auth, passkey = registered(customer, payment=True)
    opts = options(customer)
    response = auth.pay(opts)
    outcome = confirm(customer, response)
    assert outcome.accepted, outcome.reason
    passkey.refresh_from_db()
    assert passkey.sign_count == auth.sign_count
    assert passkey.last_used_at is not None
    assert AuditRecord.objects.filter(event="passkey.accepted").count() == 1
    replayed = confirm(customer, response)
    assert (replayed.accepted, replayed.reason) == (False, "replayed")


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"total": {"currency": "JPY", "value": "5000"}}, "another amount shown"),
        ({"total": {"currency": "USD", "value": "50000"}}, "another currency"),
        ({"instrument": {"displayName": "振込先 ｱｸﾏ", "icon": ORIGIN + "/x.png"}}, "instrument"),
        ({"payeeName": "ｱｸﾏ"}, "another payee"),
        ({"payeeOrigin": "https://evil.example"}, "a payee origin the bank never named"),
        ({"rpId": "evil.example"}, "another rp id in the payment data"),
        ({"topOrigin": "https://evil.example"}, "shown in another site's page"),
    ],
)
def test_a_payment_get_showing_something_else_is_refused_and_counted(
    customer: Customer, changes: dict[str, Any], why: str
) -> None:
    auth, _ = registered(customer, payment=True)
    outcome = confirm(customer, auth.pay(options(customer), **changes))
    assert (outcome.accepted, outcome.reason) == (False, "payment"), why
    assert otp_failures(customer) == 1
    # The challenge was not consumed by the refusal: the genuine dialog still confirms.
    assert confirm(customer, auth.pay(options(customer))).accepted


def test_a_payment_get_without_payment_data_is_refused(customer: Customer) -> None:
    auth, _ = registered(customer, payment=True)
    opts = options(customer)
    outcome = confirm(customer, auth.get(opts, kind="payment.get"))
    assert (outcome.accepted, outcome.reason) == (False, "payment")


def test_the_bank_executes_what_the_dialog_showed(customer: Customer) -> None:
    """The dialog showed 50,000 yen; the bank about to execute another amount (its own
    record, rebuilt at execution) refuses the assertion."""
    auth, _ = registered(customer, payment=True)
    response = auth.pay(options(customer))
    other = PaymentDisplay(**{**PAYMENT.__dict__, "amount_jpy": 500_000})
    outcome = confirm(customer, response, payment=other)
    assert (outcome.accepted, outcome.reason) == (False, "payment")


def test_a_payment_get_where_no_payment_was_asked_is_refused(customer: Customer) -> None:
    """登録先 and 限度額 are no payments: no browser was asked to show anything."""
    auth, _ = registered(customer, payment=True)
    outcome = confirm(customer, auth.pay(options(customer)), payment=None)
    assert (outcome.accepted, outcome.reason) == (False, "payment")


def test_a_payment_get_does_not_log_in(customer: Customer) -> None:
    auth, _ = registered(customer, payment=True)
    login = services.login_options()
    response = auth.get(login, kind="payment.get", payment={"total": PAYMENT.total_value})
    outcome = services.authenticate(response=response, purpose="login", ip=None)
    assert (outcome.accepted, outcome.reason) == (False, "payment")


def test_a_webauthn_get_confirms_a_payment_where_the_browser_has_no_spc(
    customer: Customer,
) -> None:
    """The fallback: the page showed the operation; the challenge binds it."""
    auth, _ = registered(customer, payment=True)
    outcome = confirm(customer, auth.get(options(customer)))
    assert outcome.accepted, outcome.reason


def test_payment_data_in_a_webauthn_get_proves_nothing_and_changes_nothing(
    customer: Customer,
) -> None:
    """Only "payment.get" takes the payment path: a webauthn.get whose client data also
    carries (any) payment member is the plain assertion, bound by its challenge alone —
    and one made for another operation's challenge stays refused."""
    auth, _ = registered(customer, payment=True)
    other = services.authentication_options(customer=customer, operation=b"other", payment=PAYMENT)
    response = auth.get(other, payment={"total": {"currency": "JPY", "value": "50000"}})
    outcome = confirm(customer, response)
    assert (outcome.accepted, outcome.reason) == (False, "operation")


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"origin": "https://bank-example.jp"}, "invalid"),
        ({"rp_id": "bank-example.jp"}, "invalid"),
    ],
)
def test_a_payment_get_from_another_origin_or_rp_is_refused(
    customer: Customer, kw: dict[str, Any], reason: str
) -> None:
    auth, _ = registered(customer, payment=True)
    opts = options(customer)
    spc = opts["spc"]
    payment = {
        "rpId": RP_ID,
        "topOrigin": ORIGIN,
        "payeeName": spc["payeeName"],
        "total": spc["total"],
        "instrument": {"displayName": spc["instrument"]["displayName"], "icon": ""},
    }
    outcome = confirm(customer, auth.get(opts, kind="payment.get", payment=payment, **kw))
    assert (outcome.accepted, outcome.reason) == (False, reason)


def test_a_payment_get_without_user_verification_or_with_a_forged_signature_is_refused(
    customer: Customer,
) -> None:
    auth, _ = registered(customer, payment=True)
    auth.user_verified = False
    assert confirm(customer, auth.pay(options(customer))).reason == "invalid"
    auth.user_verified = True
    forged = auth.pay(options(customer))
    other = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, credential_id=auth.credential_id)
    forged["response"]["signature"] = other.pay(options(customer))["response"]["signature"]
    assert confirm(customer, forged).reason == "invalid"


def test_a_payment_get_with_a_sign_count_going_back_is_refused(customer: Customer) -> None:
    auth, _ = registered(customer, payment=True)
    assert confirm(customer, auth.pay(options(customer))).accepted
    auth.sign_count = 0
    outcome = confirm(customer, auth.pay(options(customer)))
    assert (outcome.accepted, outcome.reason) == (False, "sign_count")
