"""Every error is tied to its field, on every form of the site.

Each form is posted with bad input through the real screens. On the page that answers:
every id an ``aria-describedby`` names exists, each field error sits in the element its
input names (with the error's text inside), and the input says ``aria-invalid="true"``.
The forms come from the code: every ``Form`` class of the site must be met here in an
error state, so a new form cannot slip past.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

import netbank
from netbank.banking.models import AccountType
from netbank.helpdesk.services import emergency_suspend, lift_request
from netbank.otp.models import Token
from tests.banking import factories as banking
from tests.helpdesk.factories import make_operator, operator_login, verified_check
from tests.otp import test_phone_support as phone
from tests.otp import test_screens_support as otp_screens
from tests.passkeys.support import ORIGIN, registered

pytestmark = pytest.mark.django_db


def site_form_classes() -> set[type[forms.Form]]:
    """Every form class in the site's ``forms.py`` modules (found on disk, so a new one
    counts without being listed here)."""
    root = Path(netbank.__file__).parent
    for path in root.rglob("forms.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        importlib.import_module(".".join(parts))
    found: set[type[forms.Form]] = set()
    todo: list[type[forms.Form]] = [forms.Form]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("netbank.") and not sub.__name__.startswith("_"):
                found.add(sub)
    return found


# --- Reading the page ------------------------------------------------------------------

_VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    text: list[str] = field(default_factory=list)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def described_by(self) -> list[str]:
        return self.attrs.get("aria-describedby", "").split()

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(
            tag, {k: v or "" for k, v in attrs}, self._open[-1] if self._open else None
        )
        self.elements.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text.append(data)


def problems_of(html: str, bound_forms: list[forms.Form]) -> list[str]:
    """What keeps a screen reader from finding an error on this page."""
    page = _Page()
    page.feed(html)
    by_id = {e.attrs["id"]: e for e in page.elements if "id" in e.attrs}
    problems = []
    referenced: dict[str, list[Element]] = {}
    for element in page.elements:
        for ref in element.described_by():
            referenced.setdefault(ref, []).append(element)
            if ref not in by_id:
                problems.append(f"<{element.tag} name={element.attrs.get('name')}> names #{ref}")
    for element in page.elements:
        if "field-error" not in element.classes():
            continue
        own_id = element.attrs.get("id", "")
        describers = referenced.get(own_id, [])
        if not describers:
            problems.append(f"a field error #{own_id or '(no id)'} no input names: {element.text}")
            continue
        for describer in describers:
            # A group of choices names the error on its <fieldset>; its inputs are invalid.
            inputs = (
                [e for e in page.elements if describer in e.ancestors() and e.tag == "input"]
                if describer.tag == "fieldset"
                else [describer]
            )
            for tag in inputs:
                if tag.attrs.get("aria-invalid") != "true":
                    problems.append(f"<{tag.tag} name={tag.attrs.get('name')}> not aria-invalid")
    seen_error = False
    for form in bound_forms:
        for bound in form:
            if not bound.errors or bound.is_hidden:
                continue
            seen_error = True
            target = by_id.get(f"{bound.auto_id}_error")
            text = "".join(target.text) if target else ""
            for message in bound.errors:
                if str(message) not in text:
                    problems.append(f"{type(form).__name__}.{bound.name}: {message!r} not shown")
    if not seen_error:
        problems.append("no field error on the page")
    return problems


def forms_in(response: Any) -> list[forms.Form]:
    seen: dict[int, forms.Form] = {}
    for context in response.context or []:
        for value in context.flatten().values():
            if isinstance(value, forms.Form) and value.is_bound:
                seen[id(value)] = value
    return list(seen.values())


# --- The forms, each posted with bad input ----------------------------------------------


def customer_login_form() -> Any:
    return Client().post("/", {"login_id": "ｙａｍａｄａ", "password": ""})


def secret_questions_form() -> Any:
    customer, _ = banking.customer_with_account()
    token, _ = banking.issue_token(customer)
    client = banking.login(customer, token)
    return client.post(reverse("customers:secret_questions"), {"transaction_password": ""})


def otp_login_form() -> Any:
    customer, _ = banking.customer_with_account()
    banking.issue_token(customer)
    client = Client()
    client.post("/", {"login_id": customer.login_id, "password": banking.PASSWORD})
    return client.post(reverse("otp:login_otp"), {"code": "12ab"})


def otp_issue_input_form() -> Any:
    client = otp_screens.login(otp_screens.make_customer())
    return client.post(reverse("otp:issue"), otp_screens.input_data(email="not-a-mail"))


def otp_issue_confirm_form() -> Any:
    client = otp_screens.login(otp_screens.make_customer())
    r = client.post(reverse("otp:issue"), otp_screens.input_data())
    assert r.status_code == 302, r.content.decode()[:2000]
    return client.post(reverse("otp:issue_confirm"), otp_screens.confirm_data(answer=""))


def otp_start_use_form() -> Any:
    customer = otp_screens.make_customer()
    client = otp_screens.login(customer)
    client.post(reverse("otp:issue"), otp_screens.input_data())
    client.post(reverse("otp:issue_confirm"), otp_screens.confirm_data())
    otp_screens.activate(Token.objects.get(customer=customer))
    return client.post(reverse("otp:start_use"), {"code": "1"})


def otp_cancel_form() -> Any:
    customer, _ = banking.customer_with_account()
    token, _ = banking.issue_token(customer)
    client = banking.login(customer, token)
    return client.post(reverse("otp:cancel"), {"transaction_password": ""})


def otp_authenticator_form() -> Any:
    client = otp_screens.login(otp_screens.make_customer())
    return client.post(reverse("otp:authenticator"), otp_screens.confirm_data(answer=""))


def phone_apply_form() -> Any:
    client = phone.phone_client()
    phone.phone_login(client, phone.make_customer())
    return client.post(reverse("otp:phone_apply"), phone.apply_data(email="x", answer=""))


@pytest.fixture(autouse=True)
def _relying_party(settings: Settings) -> None:
    """Passkeys as the bank at ORIGIN has them (the software authenticator's origin)."""
    settings.NETBANK_PUBLIC_URL = ORIGIN
    settings.NETBANK_WEBAUTHN_RP_ID = ""
    settings.NETBANK_WEBAUTHN_ORIGINS = []


def _passkey_customer() -> tuple[Any, Client]:
    customer, _ = banking.customer_with_account()
    token, _ = banking.issue_token(customer)
    return customer, banking.login(customer, token)


def passkey_register_form() -> Any:
    _customer, client = _passkey_customer()
    return client.post(reverse("passkeys:register"), {"name": "", "code": "x", "action": "confirm"})


def passkey_rename_form() -> Any:
    customer, client = _passkey_customer()
    _auth, passkey = registered(customer)
    return client.post(reverse("passkeys:rename", args=[passkey.pk]), {"name": ""})


def passkey_remove_form() -> Any:
    customer, client = _passkey_customer()
    _auth, passkey = registered(customer)
    return client.post(reverse("passkeys:remove", args=[passkey.pk]), {"code": "x"})


def _banking_client() -> tuple[Client, Any, Any]:
    customer, src = banking.customer_with_account(100_000)
    savings = banking.open_account(customer, account_type=AccountType.SAVINGS)
    token, _ = banking.issue_token(customer)
    return banking.login(customer, token), src, savings


def furikae_form() -> Any:
    client, src, savings = _banking_client()
    return client.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "abc"},
    )


def furikomi_form() -> Any:
    client, src, _ = _banking_client()
    data = {
        "from_account": str(src.pk),
        "bank_code": "12",
        "branch_code": "x",
        "account_type": AccountType.ORDINARY,
        "account_number": "",
        "name_kana": "",
        "amount": "0",
        "scheduled_for": "",
    }
    return client.post(reverse("banking:furikomi_input"), data)


def transfer_confirm_form() -> Any:
    client, src, savings = _banking_client()
    client.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "1000"},
    )
    html = client.get(reverse("banking:transfer_confirm")).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert key, html[:2000]
    data = {"idempotency_key": key.group(1), "transaction_password": "", "action": "confirm"}
    return client.post(reverse("banking:transfer_confirm"), data)


def payee_form() -> Any:
    client, _, _ = _banking_client()
    data = {"bank_code": "1", "branch_code": "", "account_type": "", "account_number": "x"}
    return client.post(reverse("banking:payee_add"), {**data, "name_kana": "", "nickname": ""})


def limit_form() -> Any:
    client, _, _ = _banking_client()
    return client.post(reverse("banking:limit"), {"new_limit": "abc"})


def statement_filter_form() -> Any:
    client, src, _ = _banking_client()
    url = reverse("banking:statement", args=[src.pk])
    return client.get(url, {"date_from": "2026-13-45", "date_to": "x"})


def _operator_client(role: str = "operator") -> Client:
    return operator_login(make_operator(role))


def operator_login_form() -> Any:
    return Client().post("/helpdesk/login/", {"username": "", "password": "", "code": "12"})


def search_form() -> Any:
    return _operator_client().get("/helpdesk/", {"q": ""})


def suspend_form() -> Any:
    customer, _ = banking.customer_with_account()
    return _operator_client().post(f"/helpdesk/customers/{customer.pk}/suspend/", {})


def identity_check_form() -> Any:
    customer, _ = banking.customer_with_account()
    return _operator_client().post(f"/helpdesk/customers/{customer.pk}/token-reset/", {})


def lift_request_form() -> Any:
    customer, _ = banking.customer_with_account()
    emergency_suspend(customer=customer, operator=make_operator().user, reason="不正送金", ip=None)
    return _operator_client().post(f"/helpdesk/customers/{customer.pk}/lift/", {})


def decision_form() -> Any:
    customer, _ = banking.customer_with_account()
    emergency_suspend(customer=customer, operator=make_operator().user, reason="不正送金", ip=None)
    outcome = lift_request(
        customer=customer,
        operator=make_operator().user,
        reason="ご本人から再開の依頼",
        token_action="resume",
        check=verified_check(),
        ip=None,
    )
    assert outcome.lift_request is not None
    url = f"/helpdesk/lift-requests/{outcome.lift_request.pk}/"
    return _operator_client("supervisor").post(url, {"action": "approve", "note": "x"})


def reason_form() -> Any:
    target = make_operator()
    return _operator_client("supervisor").post(
        f"/helpdesk/operators/{target.user.pk}/unlock/", {"reason": ""}
    )


# Each case: the form class it shows in error, and how a customer or operator gets there.
CASES: dict[str, tuple[str, Callable[[], Any]]] = {
    "customer_login_form": ("LoginForm", customer_login_form),
    "secret_questions_form": ("SecretQuestionsForm", secret_questions_form),
    "otp_login_form": ("OtpCodeForm", otp_login_form),
    "otp_issue_input_form": ("IssueInputForm", otp_issue_input_form),
    "otp_issue_confirm_form": ("IssueConfirmForm", otp_issue_confirm_form),
    "otp_start_use_form": ("OtpCodeForm", otp_start_use_form),
    "otp_cancel_form": ("TransactionPasswordForm", otp_cancel_form),
    "otp_authenticator_form": ("IssueConfirmForm", otp_authenticator_form),
    "phone_apply_form": ("PhoneApplyForm", phone_apply_form),
    "passkey_register_form": ("RegisterForm", passkey_register_form),
    "passkey_rename_form": ("RenameForm", passkey_rename_form),
    "passkey_remove_form": ("RemoveForm", passkey_remove_form),
    "furikae_form": ("FurikaeForm", furikae_form),
    "furikomi_form": ("FurikomiForm", furikomi_form),
    "transfer_confirm_form": ("ConfirmForm", transfer_confirm_form),
    "payee_form": ("PayeeForm", payee_form),
    "limit_form": ("LimitForm", limit_form),
    "statement_filter_form": ("StatementFilterForm", statement_filter_form),
    "operator_login_form": ("OperatorLoginForm", operator_login_form),
    "search_form": ("SearchForm", search_form),
    "suspend_form": ("SuspendForm", suspend_form),
    "identity_check_form": ("IdentityCheckForm", identity_check_form),
    "lift_request_form": ("LiftRequestForm", lift_request_form),
    "decision_form": ("DecisionForm", decision_form),
    "reason_form": ("ReasonForm", reason_form),
}


@pytest.mark.parametrize("case", CASES)
def test_every_error_is_tied_to_its_field(case: str, frozen_clock: Any) -> None:
    form_name, run = CASES[case]
    response = run()
    assert response.status_code in (200, 400), response.content.decode()[:2000]
    bound = [f for f in forms_in(response) if f.errors]
    assert form_name in {type(f).__name__ for f in bound}, f"{case}: no {form_name} in error"
    problems = problems_of(response.content.decode(), bound)
    assert not problems, "\n".join(problems)


def test_every_form_of_the_site_is_posted_with_bad_input() -> None:
    met = {form_name for form_name, _run in CASES.values()}
    # AccessibleForm is the customer forms' base class, never shown itself.
    missing = sorted(
        c.__name__
        for c in site_form_classes()
        if c.__name__ not in met and c.__name__ != "AccessibleForm"
    )
    assert not missing, f"forms never shown in an error state here: {missing}"


def test_a_form_without_errors_marks_nothing_invalid(frozen_clock: Any) -> None:
    client = Client()
    html = client.get("/").content.decode()
    assert "aria-invalid" not in html
    assert "aria-describedby" not in html or "_error" not in html


def test_the_checker_finds_a_dangling_reference() -> None:
    html = '<input name="x" aria-invalid="true" aria-describedby="id_x_error"><p class="field-error" id="id_x-error">bad</p>'
    found = problems_of(html, [])
    assert any("names #id_x_error" in p for p in found)
    assert any("no input names" in p for p in found)
