"""Every console page, in Japanese, reads in words: no event codes, no snake_case keys,
no None/True/False, no untranslated English. The data makes every state appear (a
locked customer, suspended ones by the helpdesk and by the customer, a pending and a
decided 利用再開, passkeys active and revoked, a login without passkey allowed, a token
issue waiting for its app, a locked operator, an audit record of every event)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, resolve
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.labels import TRACE_KEYS, data_codes, data_items
from netbank.audit.models import AuditRecord
from netbank.audit.services import record
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import furikomi_order, transfer_execute
from netbank.customers.models import Customer, FailureCounter
from netbank.customers.suspension import SOURCE_CUSTOMER_WEB, customer_suspend
from netbank.helpdesk import selectors, services
from netbank.helpdesk import urls as console_urls
from netbank.helpdesk.models import LiftRequest, OperatorCredential
from netbank.helpdesk.operators import operator_create
from netbank.helpdesk.views import DONE_MESSAGES
from netbank.passkeys.models import Passkey
from tests.audit.recorded_events import scan
from tests.helpdesk.factories import (
    OPERATOR_PASSWORD,
    Operator,
    account_for,
    identity_post,
    in_use_token,
    issue_token,
    make_customer,
    new_key,
    operator_login,
    other_bank,
    verified_check,
)
from tests.helpdesk.test_passkeys import ORIGIN, with_passkey
from tests.web.program_words import page_program_words

pytestmark = pytest.mark.django_db

REASON = "お客さまからの電話による依頼"


def _operator(username: str, role: str, full_name: str) -> Operator:
    enrolment = operator_create(
        username=username, password=OPERATOR_PASSWORD, role=role, full_name=full_name
    )
    return Operator(enrolment.user, enrolment.secret_base32)


class Walk:
    """Pages fetched, with the URL names they answered, and their program words."""

    def __init__(self, data: list[str]) -> None:
        self.data = data
        self.names: set[str] = set()
        self.found: dict[str, list[str]] = {}

    def check(self, client: Client, method: str, path: str, **kw: Any) -> Any:
        response = getattr(client, method)(path, **kw)
        assert response.status_code in (200, 400, 403, 429), (path, response.status_code)
        match = resolve(path.split("?", 1)[0])
        self.names.add(match.url_name or "")
        words = page_program_words(response.content.decode(), self.data)
        if words:
            self.found[f"{method.upper()} {path}"] = words
        return response


def _lock_login(customer: Customer) -> None:
    for _n in range(20):
        Client(REMOTE_ADDR="198.51.100.9").post(
            "/", {"login_id": customer.login_id, "password": "wrong-pass-1"}
        )
        counter = FailureCounter.objects.filter(subject=f"customer:{customer.pk}").first()
        if counter is not None and counter.locked_until is not None:
            return
        clock.advance(1)


def _lock_operator(operator: Operator) -> None:
    client = Client(REMOTE_ADDR="192.0.2.77")
    for _n in range(20):
        client.post(
            "/helpdesk/login/",
            {"username": operator.user.username, "password": OPERATOR_PASSWORD, "code": "000000"},
        )
        if OperatorCredential.objects.filter(user=operator.user, locked_at__isnull=False).exists():
            return
        clock.advance(30)
    raise AssertionError("the operator did not lock")


def test_every_console_page_reads_in_words(settings: Settings) -> None:
    settings.NETBANK_PUBLIC_URL = ORIGIN
    settings.NETBANK_WEBAUTHN_RP_ID = ""
    settings.NETBANK_WEBAUTHN_ORIGINS = []
    settings.NETBANK_PASSKEY_REQUIRED = True
    op = _operator("sato", "operator", "佐藤 次郎")
    sup = _operator("suzuki", "supervisor", "鈴木 一郎")
    sup2 = _operator("tanaka", "supervisor", "田中 花子")
    locked_op = _operator("kato", "operator", "加藤 三郎")
    _lock_operator(locked_op)

    # A customer with everything: token, passkeys (one revoked), a transfer, a locked
    # login password, a login without passkey allowed by the helpdesk.
    full = make_customer(login_id="zenbu0001")
    account = account_for(full)
    payee_seed(customer=full, destination=other_bank())
    transfer_execute(
        customer=full,
        order=furikomi_order(
            customer=full, from_account_id=account.pk, amount=12_345, destination=other_bank()
        ),
        idempotency_key=new_key(),
    )
    in_use_token(full)
    with_passkey(full, name="自宅のスマートフォン")
    with_passkey(full, name="古いスマートフォン")
    old = Passkey.objects.get(customer=full, name="古いスマートフォン")
    services.passkey_revoke(
        customer=full, passkey_id=old.pk, operator=op.user, reason=REASON, ip="192.0.2.10"
    )
    services.login_recovery(
        customer=full, operator=op.user, reason=REASON, check=verified_check(), ip="192.0.2.10"
    )
    _lock_login(full)
    # An audit record of every event the code records, in the full customer's trail.
    for event in sorted(scan().events):
        record(event, customer_id=full.pk)

    # Suspended by the helpdesk, 利用再開 asked by one supervisor (pending).
    pending = make_customer(login_id="teishi0001")
    in_use_token(pending)
    services.emergency_suspend(customer=pending, operator=op.user, reason=REASON, ip="192.0.2.10")
    services.lift_request(
        customer=pending,
        operator=sup.user,
        reason=REASON,
        token_action="resume",
        check=verified_check(items=["name_birthdate", "recent_activity"]),
        ip="192.0.2.10",
    )
    lift = LiftRequest.objects.get(customer=pending)
    # Suspended by the customer, then lifted (a decided request).
    lifted = make_customer(login_id="saikai0001")
    in_use_token(lifted)
    customer_suspend(customer=lifted, source=SOURCE_CUSTOMER_WEB, reason="customer_web")
    services.lift_request(
        customer=lifted,
        operator=op.user,
        reason=REASON,
        token_action="revoke",
        check=verified_check(),
        ip=None,
    )
    decided = LiftRequest.objects.get(customer=lifted)
    services.lift_approve(request_id=decided.pk, supervisor=sup2.user, note=REASON, ip=None)
    # Suspended by the customer and still stopped; a token issue waiting for its app.
    stopped = make_customer(login_id="jibun0001")
    customer_suspend(customer=stopped, source=SOURCE_CUSTOMER_WEB, reason="customer_web")
    waiting = make_customer(login_id="machi0001")
    issue_token(waiting)

    customers = [full, pending, lifted, stopped, waiting]
    data = [o.user.username for o in (op, sup, sup2, locked_op)]
    data += [c.login_id for c in customers] + [c.email for c in customers]
    data += [t.user_id for c in customers for t in selectors.customer_tokens(c)]
    walk = Walk(data)

    anonymous = Client(REMOTE_ADDR="192.0.2.10")
    walk.check(anonymous, "get", "/helpdesk/login/")
    for ended in ("idle", "expired", "revoked", "mixed", "logout"):
        walk.check(anonymous, "get", f"/helpdesk/login/?ended={ended}")
    walk.check(anonymous, "post", "/helpdesk/login/", data={})
    walk.check(
        anonymous,
        "post",
        "/helpdesk/login/",
        data={"username": "sato", "password": "wrong", "code": "123456"},
    )

    for who in (sup2, op):
        client = operator_login(who)
        walk.check(client, "get", "/helpdesk/")
        for q in ("zenbu0001", "山田", "誰もいない", "x" * 101):
            walk.check(client, "get", "/helpdesk/", data={"q": q})
        for c in customers:
            walk.check(client, "get", f"/helpdesk/customers/{c.pk}/")
        for done in DONE_MESSAGES:
            walk.check(client, "get", f"/helpdesk/customers/{full.pk}/?done={done}")
        pages = selectors.customer_audit(full).count() // 50 + 1
        for page in range(1, pages + 1):
            walk.check(client, "get", f"/helpdesk/customers/{full.pk}/audit/?page={page}")
        walk.check(client, "get", f"/helpdesk/customers/{lifted.pk}/audit/")
        for path in (
            f"/helpdesk/customers/{full.pk}/suspend/",
            f"/helpdesk/customers/{stopped.pk}/lift/",
            f"/helpdesk/customers/{full.pk}/token-reset/",
            f"/helpdesk/customers/{waiting.pk}/token-mail/",
            f"/helpdesk/customers/{full.pk}/login-recovery/",
            *(
                f"/helpdesk/customers/{full.pk}/unlock/{counter.pk}/"
                for counter in FailureCounter.objects.filter(subject=f"customer:{full.pk}")
            ),
        ):
            walk.check(client, "get", path)
            walk.check(client, "post", path, data={})
            walk.check(client, "post", path, data=identity_post(result="failed", items=[]))
        # Revoking a passkey asks only a reason: the page and its error, not the act.
        revoke = (
            f"/helpdesk/customers/{full.pk}/passkeys/"
            f"{Passkey.objects.get(customer=full, revoked_at__isnull=True).pk}/revoke/"
        )
        walk.check(client, "get", revoke)
        walk.check(client, "post", revoke, data={"reason": "x"})
        for request in (lift, decided):
            walk.check(client, "get", f"/helpdesk/lift-requests/{request.pk}/")
        walk.check(client, "post", f"/helpdesk/lift-requests/{lift.pk}/", data={})
        walk.check(
            client, "post", f"/helpdesk/lift-requests/{lift.pk}/", data={"action": "approve"}
        )
    own = operator_login(sup)
    walk.check(own, "get", f"/helpdesk/lift-requests/{lift.pk}/")
    walk.check(own, "get", "/helpdesk/operators/")
    walk.check(own, "get", "/helpdesk/operators/?done=unlocked")
    walk.check(own, "get", f"/helpdesk/operators/{locked_op.user.pk}/unlock/")
    walk.check(own, "post", f"/helpdesk/operators/{locked_op.user.pk}/unlock/", data={})
    response = own.post("/helpdesk/logout/")
    walk.names.add(resolve("/helpdesk/logout/").url_name or "")
    walk.check(own, "get", response["Location"])

    # What was shown as codes reads as words.
    reader = operator_login(sup2)
    page = reader.get(f"/helpdesk/customers/{pending.pk}/").content.decode()
    assert "ヘルプデスクが停止（オペレーター: sato）" in page
    assert "利用再開" in page.split('id="h-checks"', 1)[1]
    page = reader.get(f"/helpdesk/lift-requests/{lift.pk}/").content.decode()
    assert "氏名・生年月日、最近のお取引・ご利用状況" in page
    page = reader.get(f"/helpdesk/customers/{stopped.pk}/").content.decode()
    assert "お客さまがログイン後の画面から停止" in page
    page = reader.get(f"/helpdesk/customers/{full.pk}/token-reset/").content.decode()
    assert "docs/" not in page
    assert "勘定系に登録された電話番号へ折り返して" in page

    every = {p.name for p in console_urls.urlpatterns if isinstance(p, URLPattern)}
    assert every - walk.names == set(), "console pages the walk did not reach"
    assert walk.found == {}

    # Nothing recorded during the walk keeps data the console cannot say in words, but the
    # request id, which support reads in the record's code detail.
    silent = {}
    for rec in AuditRecord.objects.all():
        shown = {item.key for item in data_items(rec.data)}
        kept = {k for k, v in rec.data.items() if v not in (None, "", []) and k not in TRACE_KEYS}
        if kept - shown:
            silent[rec.event] = sorted(kept - shown)
        if "request_id" in rec.data:
            assert f"request_id={rec.data['request_id']}" in data_codes(rec.data)
    assert silent == {}


def test_the_consoles_choices_and_the_trails_words_agree() -> None:
    """An identity check's items, purposes, methods and results, and a lift's token
    choice, read the same in its table as in the audit record of it."""
    from netbank.audit.labels import VALUE_LABELS
    from netbank.helpdesk.models import IdentityCheck

    named = {
        **services.IDENTITY_ITEMS,
        **services.PURPOSE_LABELS,
        **dict(IdentityCheck.Method.choices),
        **dict(IdentityCheck.Result.choices),
        **dict(LiftRequest.TokenAction.choices),
    }
    results = dict(IdentityCheck.Result.choices)
    named = {code: label for code, label in named.items() if code not in results}
    assert {code: str(VALUE_LABELS.get(code)) for code in named} == {
        code: str(label) for code, label in named.items()
    }
    # A check's result, in the record of the check.
    assert [item.value for result in results for item in data_items({"result": result})] == [
        str(label) for label in results.values()
    ]


def test_the_console_in_english_reads_the_same_records_in_english(settings: Settings) -> None:
    op = _operator("sato", "operator", "佐藤 次郎")
    customer = make_customer(login_id="eigo0001")
    Client(REMOTE_ADDR="198.51.100.9").post(
        "/", {"login_id": customer.login_id, "password": "wrong-pass-1"}
    )
    services.emergency_suspend(customer=customer, operator=op.user, reason=REASON, ip=None)
    client = operator_login(op)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/helpdesk/customers/{customer.pk}/").content.decode()
    assert "Login failed (wrong login ID or password)" in html
    assert "Emergency suspension (helpdesk)" in html
    assert "Stopped by the helpdesk (operator: sato)" in html
    assert "ログイン失敗（ログインIDまたはパスワードの誤り）" not in html
    # The stored code stays at hand for support.
    assert 'title="login.failed"' in html
