"""What the passkey service tests share: the bank's origin and relying party, a
customer with the token app in use, a passkey registered through the real service, and
the customer's OTP failure count (where refused assertions are counted)."""

from __future__ import annotations

from typing import Any

from netbank.customers import lockout
from netbank.customers.models import Customer
from netbank.passkeys import services
from netbank.passkeys.models import Passkey
from tests.customers.factories import make_customer
from tests.otp.factories import in_use_token
from tests.passkeys.authenticator import SoftAuthenticator

RP_ID = "bank.example.jp"
ORIGIN = "https://bank.example.jp"


def otp_customer() -> Customer:
    customer = make_customer(login_id="hanako01")
    in_use_token(customer)
    return customer


def registered(
    customer: Customer, *, payment: bool = False, **kw: Any
) -> tuple[SoftAuthenticator, Passkey]:
    """A passkey made by a software authenticator (``kw``) and registered; ``payment``:
    as passkey.js registers it on a browser with Secure Payment Confirmation."""
    auth = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, **kw)
    response = auth.create(services.registration_options(customer=customer))
    if payment:
        response["netbankPayment"] = True
    passkey = services.register(
        customer=customer, response=response, name="iPhone", ip="203.0.113.1"
    )
    return auth, passkey


def otp_failures(customer: Customer) -> int:
    subject = lockout.subject_for_customer(customer)
    return lockout.lockout_status(kind=lockout.OTP, subject=subject).failures
