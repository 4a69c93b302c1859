"""The customer's own emergency stop (mail link and in-bank page), the login history,
and new-device login notices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers.login_devices import DEVICE_COOKIE
from netbank.customers.models import Customer
from netbank.customers.notices_security import (
    emergency_stop_token,
    emergency_stop_url,
    helpdesk_action_notice_enqueue,
)
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from tests.helpdesk.factories import (
    PASSWORD,
    csrf_token_from,
    customer_logged_in,
    customer_login,
    in_use_token,
    make_customer,
)

pytestmark = pytest.mark.django_db


def link_path(customer: Customer) -> str:
    url = emergency_stop_url(customer)
    base = str(settings.NETBANK_PUBLIC_URL).rstrip("/")
    assert url.startswith(base + "/security/emergency-stop/")
    return url[len(base) :]


def test_opening_the_link_suspends_nobody_however_often_it_is_fetched() -> None:
    customer = make_customer()
    path = link_path(customer)
    scanner = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(3):
        r = scanner.get(path)
        assert r.status_code == 200
        assert "お取引を停止する" in r.content.decode()
    assert scanner.head(path).status_code in (200, 405)
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert not AuditRecord.objects.filter(event__startswith="customer.suspend").exists()


def test_the_link_page_leaks_its_url_nowhere() -> None:
    r = Client().get(link_path(make_customer()))
    assert r["Referrer-Policy"] == "same-origin"
    assert "no-store" in r["Cache-Control"]


def test_pressing_the_button_on_the_link_page_suspends_the_customer() -> None:
    customer = make_customer()
    token = in_use_token(customer)
    session = customer_login_otp_free(customer)
    path = link_path(customer)
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.51")
    page = browser.get(path).content.decode()
    r = browser.post(path, {"csrfmiddlewaretoken": csrf_token_from(page)})
    assert r.status_code == 200
    assert "お取引を停止しました" in r.content.decode()
    customer.refresh_from_db()
    token.refresh_from_db()
    assert customer.status == Customer.Status.SUSPENDED
    assert token.state == Token.State.SUSPENDED
    assert not customer_logged_in(session)
    rec = AuditRecord.objects.get(event="customer.suspended")
    assert rec.data["source"] == "customer_link"
    assert rec.ip == "203.0.113.51"
    assert rec.operator_id is None
    notice = OutboxMail.objects.get(purpose="security_suspended_notice")
    assert "メールに記載の「利用停止」のお手続きにより" in notice.body
    # A second press changes nothing and mails nobody.
    r = browser.post(path, {"csrfmiddlewaretoken": csrf_token_from(page)})
    assert "すでに停止されています" in r.content.decode()
    assert OutboxMail.objects.filter(purpose="security_suspended_notice").count() == 1


def customer_login_otp_free(customer: Customer) -> Client:
    """A session of a customer whose token is in use, made before the token existed."""
    Token.objects.filter(customer=customer).update(state="activated")
    client = customer_login(customer)
    Token.objects.filter(customer=customer).update(state="in_use")
    return client


def test_a_post_without_its_csrf_token_suspends_nobody() -> None:
    customer = make_customer()
    r = Client(enforce_csrf_checks=True).post(link_path(customer))
    assert r.status_code == 403
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t[:-5],  # truncated
        lambda t: "x" + t,
        lambda t: "abc",
        lambda t: "%00" * 20,
        lambda t: signing.TimestampSigner(salt="some-other-purpose").sign_object({"c": 1}),
        lambda t: signing.TimestampSigner(salt="netbank.customers.emergency-stop").sign_object(
            {"c": "1"}
        ),
        lambda t: signing.TimestampSigner(salt="netbank.customers.emergency-stop").sign_object(
            {"c": 999999}
        ),
    ],
)
def test_a_link_the_bank_did_not_make_gets_a_clear_message_and_changes_nothing(mangle) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer()
    path = f"/security/emergency-stop/{mangle(emergency_stop_token(customer))}/"
    for method in ("get", "post"):
        r = getattr(Client(), method)(path)
        assert r.status_code in (400, 404), (method, r.status_code)
        if r.status_code == 400:
            assert "このURLは正しくありません" in r.content.decode()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE


def test_an_expired_link_says_so_and_changes_nothing() -> None:
    customer = make_customer()
    path = link_path(customer)
    clock.advance(timedelta(days=30, seconds=1).total_seconds())
    for method in ("get", "post"):
        r = getattr(Client(), method)(path)
        assert r.status_code == 410
        assert "有効期限が切れています" in r.content.decode()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE


def test_the_link_token_names_only_the_customer_id() -> None:
    customer = make_customer()
    token = emergency_stop_token(customer)
    assert customer.login_id not in token
    assert customer.email.split("@")[0] not in token
    value = signing.TimestampSigner(salt="netbank.customers.emergency-stop").unsign_object(token)
    assert value == {"c": customer.pk}


def test_a_logged_in_customer_stops_everything_from_inside_the_bank() -> None:
    customer = make_customer()
    other_session = customer_login(customer, Client(REMOTE_ADDR="198.51.100.61"))
    client = customer_login(customer)
    r = client.get("/security/emergency-stop/")
    assert r.status_code == 200
    assert "お取引を停止する" in r.content.decode()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    r = client.post("/security/emergency-stop/")
    assert r.status_code == 200
    assert "お取引を停止しました" in r.content.decode()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.SUSPENDED
    assert not customer_logged_in(client)
    assert not customer_logged_in(other_session)
    assert AuditRecord.objects.get(event="customer.suspended").data["source"] == "customer_web"


def test_the_in_bank_stop_page_needs_a_logged_in_customer() -> None:
    customer = make_customer()
    r = Client().post("/security/emergency-stop/")
    assert r.status_code == 302
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE


def test_the_login_history_lists_logins_and_failures_of_that_customer_only() -> None:
    customer = make_customer()
    other = make_customer()
    Client(REMOTE_ADDR="203.0.113.77").post(
        "/", {"login_id": customer.login_id, "password": "wrong-pass-77"}
    )
    customer_login(other, Client(REMOTE_ADDR="203.0.113.88"))
    client = customer_login(customer)
    r = client.get("/security/login-history/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "203.0.113.77" in html
    assert "ログイン失敗" in html
    assert "198.51.100.20" in html  # this login
    assert "203.0.113.88" not in html
    assert Client().get("/security/login-history/").status_code == 302


def test_mails_carry_a_working_emergency_stop_link_for_that_customer() -> None:
    customer = make_customer()
    helpdesk_action_notice_enqueue(customer=customer, what="テスト")
    body = OutboxMail.objects.get(purpose="security_helpdesk_notice").body
    match = re.search(r"(https?://\S+/security/emergency-stop/\S+/)", body)
    assert match
    base = str(settings.NETBANK_PUBLIC_URL).rstrip("/")
    r = Client().get(match.group(1)[len(base) :])
    assert r.status_code == 200
    assert customer.name_kanji in r.content.decode()


NEW_DEVICE_WARNING = "【ご注意】これまでにご利用のない端末（ブラウザ）からのログインです。"


def test_a_login_from_a_new_browser_is_announced_once_in_its_login_notice() -> None:
    customer = make_customer()
    browser = customer_login(customer)
    assert browser.cookies[DEVICE_COOKIE]["httponly"]
    mails = OutboxMail.objects.filter(to_addr=customer.email)
    # One mail for the login, and it is the login notice that carries the warning.
    assert mails.count() == 1
    notice = mails.get()
    assert notice.purpose == "login_notice"
    assert "新しい端末からのログインのお知らせ" in notice.subject
    assert NEW_DEVICE_WARNING in notice.body
    assert "198.51.100.20" in notice.body
    assert "/security/emergency-stop/" in notice.body
    assert (
        AuditRecord.objects.filter(event="login.new_device", customer_id=customer.pk).count() == 1
    )
    # The same browser again: known, so a plain login notice, still one mail.
    browser.post("/logout/")
    customer_login(customer, browser)
    assert mails.count() == 2
    again = mails.latest("pk")
    assert again.purpose == "login_notice"
    assert "新しい端末" not in again.subject
    assert NEW_DEVICE_WARNING not in again.body
    assert "/security/emergency-stop/" in again.body
    assert (
        AuditRecord.objects.filter(event="login.new_device", customer_id=customer.pk).count() == 1
    )
    # Another browser: new.
    customer_login(customer, Client(REMOTE_ADDR="198.51.100.21"))
    assert mails.count() == 3
    assert NEW_DEVICE_WARNING in mails.latest("pk").body
    assert (
        AuditRecord.objects.filter(event="login.new_device", customer_id=customer.pk).count() == 2
    )


def _warned(customer: Customer) -> int:
    return sum(
        NEW_DEVICE_WARNING in body
        for body in OutboxMail.objects.filter(
            purpose="login_notice", to_addr=customer.email
        ).values_list("body", flat=True)
    )


def test_a_device_cookie_is_per_customer_and_cannot_be_forged() -> None:
    first = make_customer()
    second = make_customer()
    browser = customer_login(first)
    browser.post("/logout/")
    customer_login(second, browser)  # same browser, another customer: new to them
    assert _warned(second) == 1
    value = browser.cookies[DEVICE_COOKIE].value
    forged = Client(REMOTE_ADDR="198.51.100.22")
    forged.cookies[DEVICE_COOKIE] = value[:-3] + "xyz"
    customer_login(first, forged)
    assert _warned(first) == 2
    assert PASSWORD


SECURITY_MAILS = [
    "customers/mail/change_notice.txt",
    "customers/mail/lock_notice.txt",
    "customers/mail/lifted_notice.txt",
    "customers/mail/helpdesk_notice.txt",
    "customers/mail/login_notice.txt",
    "otp/mail/issue_notice.txt",
    "otp/mail/start_use_notice.txt",
    "otp/mail/cancel_notice.txt",
    "otp/mail/activation_voided.txt",
    "banking/mail/notice.txt",
]


@pytest.mark.parametrize("template", SECURITY_MAILS)
def test_every_security_mail_to_the_customer_carries_the_emergency_stop_link(
    template: str,
) -> None:
    from django.template.loader import render_to_string

    customer = make_customer()
    body = render_to_string(
        template,
        {"customer": customer, "bank_name": "ネットバンク", "helpdesk": settings.NETBANK_HELPDESK},
    )
    url = emergency_stop_url(customer)
    assert url in body
    # The block sits in cleanly: one blank line before it and one after.
    start = body.index("【お心当たりがない場合（ご自身でのお取引の緊急停止）】")
    tail = "入力を求められた場合は、偽のサイトです。"
    end = body.index(tail) + len(tail)
    assert body[start - 2 : start] == "\n\n"
    assert body[start - 3] != "\n"
    assert body[end : end + 2] == "\n\n"
    assert body[end + 2] != "\n"


def test_the_token_mail_to_the_phone_has_no_stop_link() -> None:
    """It goes to the address typed at the issue, which may be a fraudster's phone."""
    from django.template.loader import render_to_string

    customer = make_customer()
    body = render_to_string("otp/mail/token_mail.txt", {"customer": customer})
    assert "/security/emergency-stop/" not in body
