"""What a customer reads, in Japanese, holds no program words: every page a logged-in
customer reaches (with a token in use, an account with history, a payee, a scheduled
transfer, a passkey, a login history with failures and a suspension; and a customer
still without a token), and every mail template the bank sends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.test.signals import template_rendered
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation
from pytest_django.fixtures import Settings

import netbank
from netbank.banking.business_days import next_business_day
from netbank.banking.models import Payee, Transfer
from netbank.banking.notices import (
    transfer_cancelled_notice,
    transfer_completed_notice,
    transfer_scheduled_notice,
)
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import furikomi_order, today_jst, transfer_execute, transfer_schedule
from netbank.customers.models import Customer, FailureCounter
from netbank.customers.notices import lock_notice_enqueue
from netbank.customers.notices_security import (
    helpdesk_action_notice_enqueue,
    lifted_notice_enqueue,
    suspended_notice_enqueue,
)
from netbank.customers.suspension import SOURCE_CUSTOMER_WEB, customer_suspend
from netbank.notifications.models import OutboxMail
from netbank.otp.activation.services import _void as activation_void
from netbank.otp.models import Token
from netbank.otp.tokens.mails import (
    cancel_notice_enqueue,
    issue_notice_enqueue,
    start_use_notice_enqueue,
    token_mail_enqueue,
)
from netbank.passkeys.models import Passkey
from tests.banking.factories import customer_with_account, deposit, login, other_bank
from tests.banking.factories import issue_token as in_use_token
from tests.helpdesk.factories import new_key
from tests.helpdesk.test_passkeys import ORIGIN, with_passkey
from tests.otp.factories import issue_token as pending_token
from tests.web.program_words import page_program_words, program_words

pytestmark = pytest.mark.django_db

SRC = Path(netbank.__file__).resolve().parent
# The customer's screens; the JSON APIs, the phone web app's files and the console are not.
CUSTOMER_APPS = ("customers", "otp", "banking", "passkeys", "web")
NOT_PAGES = (
    "api/",
    "banking/api/",
    "session/",
    "app/install.json",
    "app/manifest.webmanifest",
    "app/sw.js",
    "login/passkey/options",
    "procedures/passkeys/register/finish",
    # The phone web app: its shell says its one line for a browser without JavaScript in
    # both languages on purpose, within the app's byte budget (tests/webapp).
    "app/token/",
)


ACTS_WHEN_EMPTY = {
    "customers:logout",
    "customers:emergency_stop",
    "customers:emergency_stop_link",
}


def _routes() -> list[tuple[str, list[str]]]:
    """(URL name, its parameters) of every customer screen."""
    found = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace in CUSTOMER_APPS or (not p.namespace and not namespace):
                    walk(p.url_patterns, prefix + str(p.pattern), p.namespace or "")
            elif isinstance(p, URLPattern) and namespace and p.name:
                route = prefix + str(p.pattern)
                if not route.startswith(NOT_PAGES):
                    found.append((f"{namespace}:{p.name}", list(p.pattern.converters)))

    walk(get_resolver().url_patterns, "", "")
    return found


def _stop_link_token(customer: Customer) -> str:
    prefix = f"{ORIGIN}/security/emergency-stop/"
    for mail in OutboxMail.objects.filter(to_addr=customer.email).order_by("-id"):
        for line in mail.body.splitlines():
            if line.strip().startswith(prefix):
                return line.strip()[len(prefix) :].rstrip("/")
    raise AssertionError("no mail with a stop link")


def _send_every_mail(
    customer: Customer, newcomer: Customer, token: Token, done: Transfer, later: Transfer
) -> None:
    counter = FailureCounter.objects.filter(subject=f"customer:{customer.pk}").first()
    assert counter is not None
    lock_notice_enqueue(customer=customer, kind=counter.kind, counter=counter)
    suspended_notice_enqueue(customer=customer, source=SOURCE_CUSTOMER_WEB)
    lifted_notice_enqueue(customer=customer, tokens_resumed=True)
    helpdesk_action_notice_enqueue(customer=customer, what="ロック解除")
    issued = pending_token(newcomer)
    token_mail_enqueue(token=issued)
    issue_notice_enqueue(customer=newcomer, token=issued, reissue=False)
    issue_notice_enqueue(customer=customer, token=issued, reissue=True)
    start_use_notice_enqueue(customer=customer, token=token)
    cancel_notice_enqueue(customer=customer)
    transfer_completed_notice(done)
    transfer_scheduled_notice(later)
    transfer_cancelled_notice(later)
    # The void after too many wrong activation passwords (what the activation API calls).
    activation_void(pending_token(customer), ip=None)


@pytest.fixture
def mail_templates() -> Iterator[set[str]]:
    rendered: set[str] = set()

    def seen(sender: Any, template: Any, **kw: Any) -> None:
        if template.name and "/mail/" in template.name:
            rendered.add(template.name)

    template_rendered.connect(seen)
    try:
        yield rendered
    finally:
        template_rendered.disconnect(seen)


def test_every_customer_page_and_mail_reads_in_words(
    settings: Settings, frozen_clock: object, mail_templates: set[str]
) -> None:
    settings.NETBANK_PUBLIC_URL = ORIGIN
    settings.NETBANK_WEBAUTHN_RP_ID = ""
    settings.NETBANK_WEBAUTHN_ORIGINS = []
    customer, account = customer_with_account(500_000)
    deposit(account, 30_000)
    token, _key = in_use_token(customer)
    with_passkey(customer, name="自宅のパソコン")
    payee_seed(customer=customer, destination=other_bank())
    done = transfer_execute(
        customer=customer,
        order=furikomi_order(
            customer=customer, from_account_id=account.pk, amount=1_200, destination=other_bank()
        ),
        idempotency_key=new_key(),
    )
    later = transfer_schedule(
        customer=customer,
        order=furikomi_order(
            customer=customer,
            from_account_id=account.pk,
            amount=3_400,
            destination=other_bank(),
            scheduled_for=next_business_day(today_jst() + timedelta(days=7)),
        ),
        idempotency_key=new_key(),
    )
    # The login history: failures, a lock, a suspension and its lift.
    for _n in range(3):
        Client(REMOTE_ADDR="198.51.100.9").post(
            "/", {"login_id": customer.login_id, "password": "wrong-pass-1"}
        )
    customer_suspend(customer=customer, source=SOURCE_CUSTOMER_WEB, reason="customer_web")
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.ACTIVE)
    Token.objects.filter(pk=token.pk).update(state=Token.State.IN_USE)
    customer.refresh_from_db()

    # A second customer, still without a token: the issue screens.
    newcomer, _account = customer_with_account(1_000)

    data = [c.login_id for c in (customer, newcomer)] + [c.email for c in (customer, newcomer)]
    data += list(Token.objects.values_list("user_id", flat=True))
    found: dict[str, list[str]] = {}
    visited: set[str] = set()
    values = {
        "account_id": str(account.pk),
        "passkey_id": str(Passkey.objects.get(customer=customer).pk),
        # The stop link of the customer's latest security mail (its confirmation page).
        "token": _stop_link_token(customer),
        "transfer_id": str(done.transfer.pk),
        "payee_id": str(Payee.objects.filter(customer=customer).values_list("pk", flat=True)[0]),
    }
    # The same parameter, another row: the scheduled transfer is the one to cancel.
    per_route = {"banking:scheduled_cancel": {"transfer_id": str(later.transfer.pk)}}
    posted: set[str] = set()
    for client in (login(customer, token), login(newcomer)):
        for name, params in _routes():
            assert set(params) <= values.keys(), f"no value for the parameters of {name}"
            kwargs = {p: values[p] for p in params} | per_route.get(name, {})
            path = reverse(name, kwargs=kwargs)
            response = client.get(path, follow=True)
            if response.status_code == 405:
                continue
            visited.add(name)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            assert response.status_code in (200, 400, 403, 404), (path, response.status_code)
            words = page_program_words(response.content.decode(), data)
            if words:
                found[path] = words
            # The form's error state: sent empty (nothing is done; what acts on an empty
            # form, logging out or stopping, is left out).
            if name not in ACTS_WHEN_EMPTY and 'method="post"' in response.content.decode():
                response = client.post(path, {}, follow=True)
                assert response.status_code < 500, path
                posted.add(name)
                words = page_program_words(response.content.decode(), data)
                if words:
                    found[f"POST {path}"] = words
        assert client.get(reverse("customers:top")).status_code == 200
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert len(visited) > 30
    assert len(posted) > 10
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())

    # Every mail template, through the functions that send it, while the customer's
    # screens are in English: notices are Japanese all the same.
    translation.activate("en")
    try:
        _send_every_mail(customer, newcomer, token, done.transfer, later.transfer)
    finally:
        translation.activate("ja")
    every = {
        str(p.relative_to(p.parents[2]))
        for p in SRC.glob("*/templates/*/mail/*.txt")
        if not p.name.startswith("_")
    }
    assert every - mail_templates == set(), "mail templates no flow rendered"
    mails = {}
    for mail in OutboxMail.objects.all():
        words = program_words(f"{mail.subject}\n{mail.body}", data)
        if words:
            mails[mail.subject] = words
    assert mails == {}
