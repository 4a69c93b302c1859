"""The console's search and customer page, bad input, and CSRF."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from netbank.audit.models import AuditRecord
from netbank.banking.payees import payee_seed
from netbank.banking.transfers import furikomi_order, transfer_execute
from netbank.customers.models import Customer
from netbank.customers.services import customer_create
from tests.helpdesk.factories import (
    account_for,
    csrf_token_from,
    customer_login,
    identity_post,
    in_use_token,
    make_customer,
    make_operator,
    new_key,
    operator_login,
    other_bank,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanako() -> Customer:
    return customer_create(
        login_id="hanako0101",
        name_kanji="農協 花子",
        name_kana="ノウキョウ ハナコ",
        email="Hanako.Nokyo@example.jp",
        password="Passw0rd2026",
        transaction_password="Kakunin789",
    )


def found_login_ids(html: str) -> list[str]:
    table = html.split('id="search-results"', 1)
    if len(table) < 2:
        return []
    return re.findall(r'class="mono">([^<]+)</a>', table[1].split("</table>", 1)[0])


@pytest.mark.parametrize(
    "query",
    [
        "hanako0101",
        "農協花子",
        "農協 花子",
        "花子",
        "ノウキョウ",
        "のうきょう はなこ",
        "ﾉｳｷｮｳ",
        "hanako.nokyo@example.jp",
        "ｈａｎａｋｏ０１０１",  # full-width, as a caller might dictate it
    ],
)
def test_an_operator_finds_a_customer_however_the_caller_gives_it(
    hanako: Customer, query: str
) -> None:
    make_customer()  # someone else, never in the results
    client = operator_login(make_operator())
    r = client.get("/helpdesk/", {"q": query})
    assert r.status_code == 200
    assert found_login_ids(r.content.decode()) == ["hanako0101"]
    rec = AuditRecord.objects.filter(event="helpdesk.search").latest("id")
    assert rec.data["found"] == 1


def test_an_operator_finds_a_customer_by_account_number(hanako: Customer) -> None:
    account = account_for(hanako)
    client = operator_login(make_operator())
    for query in (account.account_number, f"{account.branch_code}-{account.account_number}"):
        r = client.get("/helpdesk/", {"q": query})
        assert found_login_ids(r.content.decode()) == ["hanako0101"], query
    r = client.get("/helpdesk/", {"q": "999-" + account.account_number})
    assert found_login_ids(r.content.decode()) == []


def test_a_partial_login_id_or_email_finds_nobody(hanako: Customer) -> None:
    client = operator_login(make_operator())
    for query in ("hanako01", "example.jp", "@example.jp"):
        r = client.get("/helpdesk/", {"q": query})
        assert found_login_ids(r.content.decode()) == [], query
    assert "該当するお客さまはいません" in r.content.decode()


def test_bad_search_input_gets_a_message_not_an_error() -> None:
    client = operator_login(make_operator())
    for query in ("", "   ", "x" * 101, "\x00abc", "'; DROP TABLE customers_customer; --", "%_%"):
        r = client.get("/helpdesk/", {"q": query})
        assert r.status_code in (200, 400), query
        assert r.status_code != 500
    r = client.get("/helpdesk/", {"q": "x" * 101})
    assert r.status_code == 400
    assert "100文字以内" in r.content.decode()


def test_the_customer_page_shows_tokens_locks_sessions_logins_transfers_and_the_trail(
    hanako: Customer,
) -> None:
    account = account_for(hanako)
    payee_seed(customer=hanako, destination=other_bank())
    transfer_execute(
        customer=hanako,
        order=furikomi_order(
            customer=hanako, from_account_id=account.pk, amount=12_345, destination=other_bank()
        ),
        idempotency_key=new_key(),
    )
    customer_login(hanako)
    token = in_use_token(hanako)  # issued after that login, so it needed no OTP
    Client(REMOTE_ADDR="198.51.100.9").post(
        "/", {"login_id": "hanako0101", "password": "bad-pass-1"}
    )
    op = make_operator()
    client = operator_login(op)
    r = client.get(f"/helpdesk/customers/{hanako.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "hanako0101" in html
    assert "ノウキョウ ハナコ" in html
    assert token.user_id in html
    assert "ログインパスワード" in html  # the lockout counter row
    sessions = html.split('id="sessions"', 1)[1].split("</table>", 1)[0]
    assert "有効" in sessions
    assert "login.succeeded" in html
    assert "login.failed" in html
    assert "12345" in html
    assert "banking.transfer.completed" in html
    # Nothing that works as a credential is ever on the page.
    assert not re.search(r"[a-z0-9]{32}", sessions)
    rec = AuditRecord.objects.filter(event="helpdesk.customer_viewed").latest("id")
    assert rec.operator_id == op.user.pk
    assert rec.customer_id == hanako.pk
    r = client.get(f"/helpdesk/customers/{hanako.pk}/audit/", {"page": "999"})
    assert r.status_code == 200
    r = client.get(f"/helpdesk/customers/{hanako.pk}/audit/", {"page": "abc"})
    assert r.status_code == 200
    assert client.get("/helpdesk/customers/99999/").status_code == 404


def test_console_forms_need_their_csrf_token(hanako: Customer) -> None:
    op = make_operator()
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.10")
    # Even the login form.
    r = client.post(
        "/helpdesk/login/", {"username": op.user.username, "password": "x", "code": "1"}
    )
    assert r.status_code == 403
    page = client.get("/helpdesk/login/").content.decode()
    from netbank import clock

    clock.advance(30)
    r = client.post(
        "/helpdesk/login/",
        {
            "username": op.user.username,
            "password": "Helpdesk-Pass-2026",
            "code": op.code(),
            "csrfmiddlewaretoken": csrf_token_from(page),
        },
    )
    assert r.status_code == 302
    url = f"/helpdesk/customers/{hanako.pk}/suspend/"
    r = client.post(url, {"reason": "不正送金の申告", "confirm": "on"})
    assert r.status_code == 403
    hanako.refresh_from_db()
    assert hanako.status == "active"
    token = csrf_token_from(client.get(url).content.decode())
    r = client.post(
        url, {"reason": "不正送金の申告", "confirm": "on", "csrfmiddlewaretoken": token}
    )
    assert r.status_code == 302
    hanako.refresh_from_db()
    assert hanako.status == "suspended"
    lift = f"/helpdesk/customers/{hanako.pk}/lift/"
    r = client.post(lift, identity_post(token_action="resume"))
    assert r.status_code == 403


def test_state_changes_are_never_made_by_get(hanako: Customer) -> None:
    client = operator_login(make_operator())
    for url in (
        f"/helpdesk/customers/{hanako.pk}/suspend/?reason=abcd&confirm=on",
        "/helpdesk/logout/",
    ):
        r = client.get(url)
        assert r.status_code in (200, 405), url
    hanako.refresh_from_db()
    assert hanako.status == "active"
    assert client.get("/helpdesk/").status_code == 200
