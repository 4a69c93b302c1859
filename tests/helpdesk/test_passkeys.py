"""The console and a customer's passkeys: the list, revoking one (reason, audited, mailed),
the one-time login without the passkey under NETBANK_PASSKEY_REQUIRED (identity check), and
緊急利用停止 blocking passkey login and ending a passkey session."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from netbank.audit.models import AuditRecord
from netbank.customers.login_policy import login_recovery_pending
from netbank.customers.models import Customer, LoginRecovery
from netbank.helpdesk.services import ActionError, emergency_suspend, login_recovery
from netbank.notifications.models import OutboxMail
from netbank.passkeys import services as passkeys
from netbank.passkeys.models import Passkey
from tests.helpdesk.factories import (
    PASSWORD,
    identity_post,
    in_use_token,
    make_customer,
    make_operator,
    operator_login,
    verified_check,
)
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db

RP_ID = "bank.example.jp"
ORIGIN = "https://bank.example.jp"
REASON = "お客さまから携帯電話紛失の連絡"


@pytest.fixture(autouse=True)
def _relying_party(settings: Settings) -> None:
    settings.NETBANK_PUBLIC_URL = ORIGIN
    settings.NETBANK_WEBAUTHN_RP_ID = ""
    settings.NETBANK_WEBAUTHN_ORIGINS = []
    settings.NETBANK_PASSKEY_REQUIRED = False


def with_passkey(customer: Customer, name: str = "iPhone", **kw: Any) -> SoftAuthenticator:
    authenticator = SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, **kw)
    passkeys.register(
        customer=customer,
        response=authenticator.create(passkeys.registration_options(customer=customer)),
        name=name,
        ip=None,
    )
    return authenticator


def passkey_customer() -> tuple[Customer, SoftAuthenticator]:
    customer = make_customer()
    in_use_token(customer)
    return customer, with_passkey(customer)


def passkey_login(authenticator: SoftAuthenticator, client: Client | None = None) -> Client:
    """Log in through the login page's passkey button (POST of the assertion)."""
    import json

    client = client or Client(REMOTE_ADDR="198.51.100.30")
    options = json.loads(client.post(reverse("passkeys:login_options")).content)
    r = client.post(
        reverse("passkeys:login"), {"credential": json.dumps(authenticator.get(options))}
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert r["Location"] == reverse("customers:top")
    return client


def test_customer_page_lists_passkeys_with_name_type_state_and_dates() -> None:
    customer, _auth = passkey_customer()
    with_passkey(customer, name="仕事用PC", synced=True)
    first = Passkey.objects.filter(customer=customer).order_by("pk").first()
    assert first is not None
    passkeys.revoke(operator=make_operator().user, passkey_id=first.pk, reason="lost")
    client = operator_login(make_operator())
    page = client.get(reverse("helpdesk:customer", args=[customer.pk])).content.decode()
    assert 'id="passkey-list"' in page
    assert "iPhone" in page
    assert "仕事用PC" in page
    assert "同期パスキー" in page
    assert "端末固定のパスキー" in page
    assert "失効（" in page
    assert "有効" in page
    # Only the passkey still in use has a revoke link.
    assert page.count("/revoke/") == 1


def test_revoking_a_passkey_needs_a_reason_is_audited_mailed_and_stops_it() -> None:
    customer, authenticator = passkey_customer()
    passkey = Passkey.objects.get(customer=customer)
    operator = make_operator()
    client = operator_login(operator)
    url = reverse("helpdesk:passkey_revoke", args=[customer.pk, passkey.pk])
    assert client.get(url).status_code == 200
    r = client.post(url, {"reason": "x"})
    assert r.status_code == 400
    passkey.refresh_from_db()
    assert passkey.revoked_at is None
    mails_before = OutboxMail.objects.count()
    r = client.post(url, {"reason": REASON})
    assert r.status_code == 302
    assert r["Location"].endswith("?done=passkey_revoked")
    passkey.refresh_from_db()
    assert passkey.revoked_at is not None
    assert passkey.revoked_by == f"operator:{operator.user.pk}"
    audit = AuditRecord.objects.get(event="helpdesk.passkey_revoked")
    assert audit.customer_id == customer.pk
    assert audit.operator_id == operator.user.pk
    assert audit.data["reason"] == REASON
    assert OutboxMail.objects.count() > mails_before
    # The revoked passkey logs in no more.
    outcome = passkeys.authenticate(
        response=authenticator.get(passkeys.login_options()), purpose="login", ip=None
    )
    assert not outcome.accepted
    assert outcome.reason == "revoked"
    # Revoking it again: the page says so and nothing more is recorded.
    r = client.post(url, {"reason": REASON})
    assert r.status_code == 400
    assert AuditRecord.objects.filter(event="helpdesk.passkey_revoked").count() == 1


def test_another_customers_passkey_cannot_be_revoked_through_this_customer() -> None:
    customer, _auth = passkey_customer()
    other, _other_auth = passkey_customer()
    client = operator_login(make_operator())
    url = reverse(
        "helpdesk:passkey_revoke",
        args=[customer.pk, Passkey.objects.get(customer=other).pk],
    )
    assert client.post(url, {"reason": REASON}).status_code == 404
    assert not Passkey.objects.filter(revoked_at__isnull=False).exists()


def test_emergency_suspension_blocks_passkey_login_and_ends_a_passkey_session() -> None:
    customer, authenticator = passkey_customer()
    client = passkey_login(authenticator)
    assert client.get(reverse("customers:top")).status_code == 200
    emergency_suspend(customer=customer, operator=make_operator().user, reason=REASON, ip=None)
    r = client.get(reverse("customers:top"))
    assert r.status_code == 302
    assert r["Location"] == reverse("customers:login") + "?ended=suspended"
    assert client.get(reverse("customers:top")).status_code == 302
    outcome = passkeys.authenticate(
        response=authenticator.get(passkeys.login_options()), purpose="login", ip=None
    )
    assert not outcome.accepted
    assert outcome.reason == "suspended"


def test_login_recovery_needs_the_setting_a_passkey_and_a_verified_identity_check(
    settings: Settings,
) -> None:
    customer, _auth = passkey_customer()
    operator = make_operator()
    # Setting off: nothing to recover from.
    with pytest.raises(ActionError):
        login_recovery(
            customer=customer,
            operator=operator.user,
            reason=REASON,
            check=verified_check(),
            ip=None,
        )
    settings.NETBANK_PASSKEY_REQUIRED = True
    # A failed identity check: refused, the check recorded, no grant.
    outcome = login_recovery(
        customer=customer,
        operator=operator.user,
        reason=REASON,
        check=verified_check(result="failed", items=[]),
        ip=None,
    )
    assert not outcome.ok
    assert not LoginRecovery.objects.exists()
    outcome = login_recovery(
        customer=customer, operator=operator.user, reason=REASON, check=verified_check(), ip=None
    )
    assert outcome.ok
    grant = login_recovery_pending(customer)
    assert grant is not None
    assert grant.granted_by_operator_id == operator.user.pk
    assert AuditRecord.objects.filter(event="helpdesk.login_recovery").count() == 1


def test_login_recovery_through_the_console_lets_one_otp_login_through(
    settings: Settings,
) -> None:
    settings.NETBANK_PASSKEY_REQUIRED = True
    customer, _auth = passkey_customer()
    client = operator_login(make_operator())
    page = client.get(reverse("helpdesk:customer", args=[customer.pk])).content.decode()
    assert reverse("helpdesk:login_recovery", args=[customer.pk]) in page
    r = client.post(reverse("helpdesk:login_recovery", args=[customer.pk]), identity_post())
    assert r.status_code == 302, r.content.decode()[:2000]
    page = client.get(reverse("helpdesk:customer", args=[customer.pk])).content.decode()
    assert 'id="login-recovery"' in page

    def password_step() -> int:
        return (
            Client(REMOTE_ADDR="198.51.100.21")
            .post("/", {"login_id": customer.login_id, "password": PASSWORD})
            .status_code
        )

    assert password_step() == 302
    assert password_step() == 400
