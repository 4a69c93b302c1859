"""Every form a customer (PC and phone) and a helpdesk operator can reach, posted with
hostile values: digits that are not ASCII, lone surrogates, very long text, empty and
missing fields, lists where one value is expected. The bank never answers 5xx, and a
refused post changes nothing: no row added or removed, no yen moved, and no audit record
unless the form checked a credential (a failed password is rightly recorded).

The forms are found by following the links of each signed-in area, so a new form is fuzzed
without this file knowing of it; the list of forms found is checked against a few known
ones so a broken crawl cannot pass quietly.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
from django.apps import apps
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.business_days import next_business_day, today_jst
from netbank.banking.models import Account, AccountType, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import furikomi_order, transfer_schedule
from netbank.helpdesk.services import emergency_suspend, lift_request
from tests.banking.factories import (
    PASSWORD,
    TRANSACTION_PASSWORD,
    customer_with_account,
    issue_token,
    login,
    open_account,
    other_bank,
)
from tests.helpdesk.factories import (
    OPERATOR_PASSWORD,
    make_operator,
    operator_login,
    verified_check,
)
from tests.helpdesk.factories import issue_token as pending_token

pytestmark = pytest.mark.django_db

EXAMPLES = 12
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)
# Rows that record attempts rather than what an attempt may change.
ATTEMPT_RECORDS = {
    "sessions.Session",
    "audit.AuditRecord",
    "audit.AuditChainHead",
    "customers.FailureCounter",
    "customers.ThrottleBucket",
    "banking.SigningChallenge",
    "notifications.OutboxMail",
}
# Fields checked against a secret: a wrong one is rightly counted and audited.
CREDENTIAL_FIELDS = {"code", "otp", "signing_code", "answer", "secret_answer"}
# Forms that end the session or only set a display preference: nothing to refuse.
SKIP_ACTIONS = {"/logout/", "/helpdesk/logout/", "/i18n/setlang/", "/display/"}

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.IGNORECASE | re.DOTALL)
_FIELD = re.compile(r"<(input|select|textarea|button)\b([^>]*)>", re.IGNORECASE)
_OPTION = re.compile(r"<option\b[^>]*value=\"([^\"]*)\"", re.IGNORECASE)
_ATTR = re.compile(r"([\w-]+)=\"([^\"]*)\"")
_LINK = re.compile(r"<a\b[^>]*href=\"([^\"#]*)\"", re.IGNORECASE)


@dataclass
class Form:
    page: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> a value the page offers
    types: dict[str, str] = field(default_factory=dict)
    method: str = "post"

    @property
    def checks_credentials(self) -> bool:
        return any(t == "password" for t in self.types.values()) or any(
            name in CREDENTIAL_FIELDS for name in self.fields
        )


def _forms(page: str, path: str) -> list[Form]:
    found = []
    for match in _FORM.finditer(page):
        attrs = dict(_ATTR.findall(match.group(1)))
        form = Form(
            page=path,
            action=urljoin(path, unescape(attrs.get("action") or path)),
            method=attrs.get("method", "get").lower(),
        )
        body = match.group(2)
        for field_match in _FIELD.finditer(body):
            tag, raw = field_match.groups()
            field_attrs = dict(_ATTR.findall(raw))
            name = field_attrs.get("name")
            if not name or name == "csrfmiddlewaretoken":
                continue
            value = unescape(field_attrs.get("value", ""))
            if tag.lower() == "select":
                # The first real choice of this select (its first option may be a prompt).
                options = [o for o in _OPTION.findall(body[field_match.end() :]) if o][:1]
                value = unescape(options[0]) if options else ""
            form.fields.setdefault(name, value)
            form.types[name] = field_attrs.get("type", tag.lower())
        found.append(form)
    return found


def crawl(client: Client, start: list[str], limit: int = 60) -> list[Form]:
    """The forms (POST and GET) and the links with a query on the same-site pages
    reachable by GET from ``start``."""
    seen: set[str] = set()
    forms: dict[tuple[str, str], Form] = {}
    queue = list(start)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or path.startswith(("/static/", "/api/", "/demo/")) or path in SKIP_ACTIONS:
            continue
        seen.add(path)
        r = client.get(path)
        assert r.status_code < 500, path
        if r.status_code != 200 or "text/html" not in r.get("Content-Type", ""):
            continue
        page = r.content.decode()
        for form in _forms(page, path):
            forms.setdefault((form.action, ",".join(sorted(form.fields))), form)
        for href in _LINK.findall(page):
            url = urljoin(path, unescape(href))
            parts = urlsplit(url)
            if not parts.netloc and url.startswith("/") and url not in seen:
                queue.append(url)
                if parts.query:
                    # A link's query is a form too (?payee=<id>, ?date_from=…).
                    link = Form(page=path, action=parts.path, method="get")
                    link.fields = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    forms.setdefault((link.action, ",".join(sorted(link.fields))), link)
    return [f for f in forms.values() if urlsplit(f.action).path not in SKIP_ACTIONS]


# --- What the fuzz sends ------------------------------------------------------------

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "１２３４５６７",
            "²",
            "①",
            "٣٣٣",
            "9" * 4301,
            "-1",
            "0",
            "1e9",
            "\ud800",
            "a\udfffb",
            "\x00",
            "ｱ" * 300,
            "<script>",
            "9999-12-31",
            "0001-01-01",
            "2026/02/30",
        ]
    ),
    st.text(max_size=40),
    st.text(st.characters(categories=["Nd", "No", "Cs"]), min_size=1, max_size=12),
)


def _value(form: Form, name: str, data: st.DataObject) -> Any:
    good = form.fields[name]
    if form.types.get(name) == "password":
        good = data.draw(st.sampled_from([PASSWORD, TRANSACTION_PASSWORD, OPERATOR_PASSWORD]))
    return data.draw(
        st.one_of(
            st.just(good),
            HOSTILE,
            st.lists(HOSTILE, min_size=2, max_size=3),  # a field sent twice or more
            st.just(None),  # left out
        )
    )


def _post_data(form: Form, data: st.DataObject) -> dict[str, Any]:
    post = {}
    for name in sorted(form.fields):
        value = _value(form, name, data)
        if value is not None:
            post[name] = value
    if data.draw(st.booleans()):
        post[data.draw(st.text(min_size=1, max_size=8))] = data.draw(HOSTILE)
    return post


def _bytes(text: str) -> bytes:
    # A lone surrogate goes out as the bytes a careless client would send (ED A0 80),
    # which are not UTF-8.
    return text.encode("utf-8", "surrogatepass")


def _urlencoded(post: dict[str, Any]) -> str:
    pairs = [
        (_bytes(name), _bytes(item))
        for name, value in post.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    return urlencode(pairs)


def _state() -> dict[str, Any]:
    """Row counts, every account's balance (the ledger's total is always zero, so each
    account is compared) and the audit trail's length."""
    state: dict[str, Any] = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.label not in ATTEMPT_RECORDS
    }
    state["balances"] = list(Account.objects.order_by("pk").values_list("pk", "balance"))
    state["audit"] = AuditRecord.objects.count()
    return state


def fuzz_form(client: Client, form: Form) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        # A fresh form each time, as a browser would have it (a new CSRF token and
        # whatever the page puts in the session).
        page = client.get(form.page)
        fresh = [
            f
            for f in _forms(page.content.decode(), form.page)
            if page.status_code == 200 and _shape(f) == _shape(form)
        ]
        before = _state()
        post = _post_data(fresh[0] if fresh else form, data)
        if form.method == "get":
            action = urlsplit(form.action)
            r = client.get(f"{action.path}?{_urlencoded(post)}")
        else:
            r = client.post(
                form.action, _urlencoded(post), content_type="application/x-www-form-urlencoded"
            )
        assert r.status_code < 500, (form.action, post)
        if r.status_code >= 400:
            after = _state()
            if form.checks_credentials:
                before.pop("audit")
                after.pop("audit")
            assert after == before, (form.action, post)

    fuzz()


_ID = re.compile(r"(?<=[/=])[0-9]+(?=[/&]|$)")


def _shape(form: Form) -> tuple[str, str]:
    return _ID.sub("#", form.action), ",".join(sorted(form.fields))


def fuzz_forms(client_for: Callable[[], Client], forms: list[Form], start: list[str]) -> None:
    """Each form with a fresh signed-in client (a form that succeeds, 緊急停止 say, may
    leave its customer unable to go on). A form whose address names a row (a 登録先) is
    found again on the new client's pages, as the row is the new customer's own."""
    for form in forms:
        client = client_for()
        if _ID.search(form.action):
            again = {_shape(f): f for f in crawl(client, start)}
            form = again.get(_shape(form), form)
        fuzz_form(client, form)


def customer_area() -> Client:
    """A customer with an account, an app token in use and a 登録先, signed in on a PC.
    A new one for each form, as a form that succeeds (緊急停止, a new password) leaves
    its customer unable to sign in again."""
    customer, account = customer_with_account()
    open_account(customer, balance=10_000, account_type=AccountType.SAVINGS)  # for 振替
    token, _ = issue_token(customer)
    payee_seed(customer=customer, destination=other_bank())
    order = furikomi_order(  # a 振込予約 to its 登録先, for the 取消 form
        customer=customer,
        from_account_id=account.pk,
        amount=10_000,
        destination=other_bank(),
        scheduled_for=next_business_day(today_jst()),
    )
    transfer_schedule(customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32))
    clock.advance(30)  # a new OTP step for each login: a code is accepted once
    client = login(customer, token)
    client.raise_request_exception = False
    return client


def newcomer_area() -> Client:
    """A customer without a token, signed in on a PC (the optional-OTP mode)."""
    customer, _ = customer_with_account()
    client = login(customer)
    client.raise_request_exception = False
    return client


def phone_area() -> Client:
    """A customer without a token, signed in on an iPhone: SLI012."""
    customer, _ = customer_with_account()
    client = Client(HTTP_USER_AGENT=IPHONE, raise_request_exception=False)
    r = client.post("/", {"login_id": customer.login_id, "password": PASSWORD})
    assert r.status_code == 302
    r = client.get("/login/otp/")
    assert r["Location"] == "/sp/otp/apply/"
    return client


def _names(forms: list[Form]) -> set[str]:
    return {urlsplit(f.action).path for f in forms}


def test_customer_forms_on_a_pc(frozen_clock: datetime) -> None:
    start = [
        "/top/",
        "/banking/furikae/",
        "/banking/furikomi/",
        "/banking/scheduled/",
        "/banking/payees/",
        "/banking/limit/",
        "/procedures/",
    ]
    forms = crawl(customer_area(), start)
    expected = {"/banking/furikae/", "/banking/furikomi/input/", "/banking/payees/add/"}
    expected |= {f"/banking/scheduled/{Transfer.objects.get().pk}/cancel/"}
    assert expected | {"/banking/limit/", "/security/emergency-stop/"} <= _names(forms), _names(
        forms
    )
    fuzz_forms(customer_area, forms, start)


def test_customer_forms_on_a_phone(frozen_clock: datetime) -> None:
    start = ["/sp/otp/apply/", "/top/"]
    forms = crawl(phone_area(), start)
    assert "/sp/otp/apply/" in _names(forms), _names(forms)
    fuzz_forms(phone_area, forms, start)


def test_token_application_forms_on_a_pc(frozen_clock: datetime) -> None:
    start = ["/procedures/otp/", "/procedures/otp/issue/"]
    forms = crawl(newcomer_area(), start)
    assert "/procedures/otp/issue/" in _names(forms), _names(forms)
    fuzz_forms(newcomer_area, forms, start)


def test_forms_before_login(frozen_clock: datetime) -> None:
    def client_for() -> Client:
        return Client(raise_request_exception=False)

    start = ["/", "/helpdesk/login/"]
    forms = crawl(client_for(), start)
    assert {"/", "/helpdesk/login/"} <= _names(forms), _names(forms)
    fuzz_forms(client_for, forms, start)


@pytest.mark.parametrize("user_agent", ["", IPHONE])
def test_one_time_password_login_form(user_agent: str, frozen_clock: datetime) -> None:
    def client_for() -> Client:
        """A customer with a token, past the password step: the ワンタイムパスワード screen."""
        customer, _ = customer_with_account()
        issue_token(customer)
        client = Client(HTTP_USER_AGENT=user_agent, raise_request_exception=False)
        r = client.post("/", {"login_id": customer.login_id, "password": PASSWORD})
        assert r["Location"] == "/login/otp/"
        return client

    start = ["/login/otp/"]
    forms = crawl(client_for(), start, limit=1)
    assert "/login/otp/" in _names(forms), _names(forms)
    fuzz_forms(client_for, forms, start)


def test_helpdesk_console_forms(frozen_clock: datetime) -> None:
    # Customers in each state a console form acts on: a login lock (解除), a token
    # waiting for its app (トークン通知の再送), a suspension with a 再開 request awaiting
    # the supervisor's decision, and a locked operator (オペレーター解除).
    locked, _ = customer_with_account()
    issue_token(locked)
    for _ in range(5):
        Client(REMOTE_ADDR="198.51.100.40").post(
            "/", {"login_id": locked.login_id, "password": "wrong-password-9"}
        )
    waiting, _ = customer_with_account()
    pending_token(waiting)
    suspended, _ = customer_with_account()
    asker = make_operator("supervisor")
    emergency_suspend(customer=suspended, operator=asker.user, reason="不正送金の申告", ip=None)
    request = lift_request(
        customer=suspended,
        operator=asker.user,
        reason="ご本人から再開の依頼（折り返し確認済み）",
        token_action="resume",
        check=verified_check(),
        ip=None,
    ).lift_request
    assert request is not None
    to_lift, _ = customer_with_account()
    emergency_suspend(customer=to_lift, operator=asker.user, reason="不正送金の申告", ip=None)
    stuck = make_operator("operator")
    for _ in range(5):
        Client(REMOTE_ADDR="198.51.100.41").post(
            "/helpdesk/login/",
            {"username": stuck.user.username, "password": "Wrong-Pass-2026", "code": "000000"},
        )
    operator = make_operator("supervisor")

    def client_for() -> Client:
        client = operator_login(operator)
        client.raise_request_exception = False
        return client

    start = [
        "/helpdesk/",
        "/helpdesk/operators/",
        f"/helpdesk/lift-requests/{request.pk}/",
        *(f"/helpdesk/customers/{c.pk}/" for c in (locked, waiting, suspended, to_lift)),
    ]
    forms = crawl(client_for(), start)
    names = {_ID.sub("#", name) for name in _names(forms)}
    expected = {
        "/helpdesk/customers/#/suspend/",
        "/helpdesk/customers/#/token-reset/",
        "/helpdesk/customers/#/unlock/#/",
        "/helpdesk/customers/#/token-mail/",
        "/helpdesk/customers/#/lift/",
        "/helpdesk/lift-requests/#/",
        "/helpdesk/operators/#/unlock/",
    }
    assert expected <= names, names
    fuzz_forms(client_for, forms, start)


# --- The 確認 steps: reached only after a valid 入力 -------------------------------------

STEPS: dict[str, tuple[Callable[[], Client], str, dict[str, str]]] = {
    "furikomi": (
        customer_area,
        "/banking/furikomi/input/",
        {
            "bank_code": "0005",
            "branch_code": "123",
            "account_type": AccountType.ORDINARY,
            "account_number": "7654321",
            "name_kana": "スズキ ハナコ",
            "amount": "20000",
            "scheduled_for": "",
        },
    ),
    "payee": (
        customer_area,
        "/banking/payees/add/",
        {
            "bank_code": "0005",
            "branch_code": "124",
            "account_type": AccountType.ORDINARY,
            "account_number": "7654322",
            "name_kana": "ｽｽﾞｷ ﾊﾅｺ",
            "nickname": "花子さん",
        },
    ),
    "limit": (customer_area, "/banking/limit/", {"new_limit": "50,000"}),
    "furikae": (customer_area, "/banking/furikae/", {"amount": "1000"}),
    "token_issue": (
        newcomer_area,
        "/procedures/otp/issue/",
        {
            "email": "fuzz@example.jp",
            "activation_password": "4821",
            "activation_password_confirm": "4821",
        },
    ),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_confirm_forms(step: str, frozen_clock: datetime) -> None:
    area, path, good = STEPS[step]
    confirm_pages: list[str] = []

    def client_for() -> Client:
        """A fresh customer who has just sent this step's 入力 and is shown its 確認."""
        client = area()
        # What the page offers (the 支払口座, say), with this step's valid input.
        offered = [f for f in _forms(client.get(path).content.decode(), path) if f.action == path]
        data = {**offered[0].fields, **good}
        if "to_account" in data:  # 振替: from the first account to the second
            own = Account.objects.filter(customer_id=client.session["customer_id"]).order_by("pk")
            data["from_account"], data["to_account"] = (str(a.pk) for a in own[:2])
        r = client.post(path, data)
        assert r.status_code == 302, r.content.decode()[:3000]
        confirm_pages.append(r["Location"])
        return client

    forms = crawl(client_for(), confirm_pages[-1:], limit=1)
    assert forms, (step, confirm_pages)
    fuzz_forms(client_for, forms, confirm_pages[-1:])
