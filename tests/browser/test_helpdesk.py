"""The helpdesk console in Chromium on a PC, and the customer's own emergency stop.

The operator logs in with password and a code from their authenticator (pyotp here),
finds the customer, opens the customer page and runs 緊急利用停止 with a reason; the
customer, logged in meanwhile in another browser, is out on the next page they open.
Every page fails the test on a JavaScript error or a CSP violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pyotp
import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from netbank import clock
from netbank.customers.models import Customer
from netbank.customers.notices_security import emergency_stop_url
from netbank.customers.services import customer_create
from netbank.helpdesk.models import LiftRequest
from netbank.helpdesk.operators import operator_create
from netbank.otp.models import Token
from tests.browser import support
from tests.browser.support import shot
from tests.otp.factories import in_use_token

pytestmark = pytest.mark.browser

LOGIN_ID = "taro0202"
PASSWORD = "Taro-pass-2026"
NAME = "農協 太郎"
OPERATOR_PASSWORD = "Helpdesk-Pass-2026"


@pytest.fixture
def customer(transactional_db: None) -> Customer:
    return customer_create(
        login_id=LOGIN_ID,
        name_kanji=NAME,
        name_kana="ノウキョウ タロウ",
        email="taro@example.jp",
        password=PASSWORD,
        transaction_password="Kakunin77",
    )


def make_operator(username: str, role: str) -> pyotp.TOTP:
    enrolment = operator_create(
        username=username, password=OPERATOR_PASSWORD, role=role, full_name=f"担当 {username}"
    )
    return pyotp.TOTP(enrolment.secret_base32)


@contextmanager
def second_browser(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """Another PC browser (its own cookies), watched like the fixtures' pages."""
    context = browser.new_context(
        base_url=live_server.url,
        locale=support.LOCALE,
        timezone_id=support.TIMEZONE,
        **support.VIEWPORTS["pc"],
    )
    context.set_default_timeout(10_000)
    page = support.new_watched_page(context, "pc")
    try:
        yield page
        problems = support.watch_of(page).problems()
        assert not problems, problems
    finally:
        context.close()
        support.forget_page(page)


def customer_logs_in(page: Page) -> None:
    page.goto("/")
    page.get_by_label(re.compile(r"ログインID$")).fill(LOGIN_ID)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page).to_have_url(re.compile(r"/top/$"))


def operator_logs_in(page: Page, username: str, totp: pyotp.TOTP) -> None:
    page.goto("/helpdesk/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("オペレーターログイン")
    page.get_by_label(re.compile(r"ユーザー名$")).fill(username)
    page.get_by_label(re.compile(r"パスワード$")).first.fill(OPERATOR_PASSWORD)
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(totp.at(clock.now()))
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お客さま検索")


def test_operator_suspends_a_customer_whose_session_then_dies(
    pc_page: Page, browser: Browser, live_server: LiveServer, customer: Customer
) -> None:
    totp = make_operator("suzuki", "operator")
    with second_browser(browser, live_server) as customer_page:
        customer_logs_in(customer_page)

        operator_logs_in(pc_page, "suzuki", totp)
        shot(pc_page, "helpdesk-home")
        pc_page.get_by_label(re.compile("ログインID・氏名")).fill("のうきょう")
        pc_page.get_by_role("button", name="検索", exact=True).click()
        results = pc_page.locator("#search-results")
        expect(results).to_contain_text(NAME)
        shot(pc_page, "helpdesk-search")
        results.get_by_role("link", name=LOGIN_ID).click()

        expect(pc_page.get_by_role("heading", level=1)).to_have_text("お客さま情報")
        expect(pc_page.locator("#customer-status")).to_contain_text("利用中")
        expect(pc_page.locator("#sessions")).to_contain_text("有効")
        shot(pc_page, "helpdesk-customer")

        pc_page.get_by_role("link", name="緊急利用停止").click()
        expect(pc_page.get_by_role("heading", level=1)).to_have_text("緊急利用停止")
        # No reason, no confirmation: a clear message, nothing done.
        pc_page.get_by_role("button", name="緊急利用停止を実行する").click()
        expect(pc_page.locator("main [role=alert]")).to_contain_text("入力内容をご確認ください")
        customer.refresh_from_db()
        assert customer.status == Customer.Status.ACTIVE

        pc_page.get_by_label(re.compile("停止の理由")).fill("お客さまから不正送金の申告（電話）")
        pc_page.get_by_label("このお客さまのお取引をただちに停止します").check()
        shot(pc_page, "helpdesk-suspend")
        pc_page.get_by_role("button", name="緊急利用停止を実行する").click()

        expect(pc_page.locator("#done-message")).to_contain_text("緊急利用停止を行いました")
        expect(pc_page.locator("#customer-status")).to_contain_text("停止中")
        # The session row stays until its next request, which will end it.
        expect(pc_page.locator("#sessions")).to_contain_text("次の操作で終了")
        shot(pc_page, "helpdesk-suspended")

        # The customer's very next request (a reload, or the idle check's own poll, which
        # already moves the page to the login screen): logged out, told why.
        customer_page.reload()
        expect(customer_page.get_by_role("heading", level=1)).to_have_text("ログイン")
        expect(customer_page.locator("main")).to_contain_text("お取引が停止されたため")
        shot(customer_page, "customer-after-suspension")
    customer.refresh_from_db()
    assert customer.status == Customer.Status.SUSPENDED


def test_four_eyes_lift_in_the_console(
    pc_page: Page, browser: Browser, live_server: LiveServer, customer: Customer
) -> None:
    asker = make_operator("tanaka", "supervisor")
    approver = make_operator("sato", "supervisor")
    token = in_use_token(customer)
    from django.contrib.auth.models import User

    from netbank.helpdesk.services import emergency_suspend

    emergency_suspend(
        customer=customer, operator=User.objects.get(username="tanaka"), reason="申告あり", ip=None
    )
    operator_logs_in(pc_page, "tanaka", asker)
    pc_page.goto(f"/helpdesk/customers/{customer.pk}/")
    pc_page.get_by_role("link", name="利用再開の申請").click()
    pc_page.get_by_label("登録電話番号への折り返し電話").check()
    pc_page.get_by_label("氏名・生年月日").check()
    pc_page.get_by_label("登録住所").check()
    pc_page.get_by_label("本人確認済み").check()
    pc_page.get_by_label(re.compile("本人確認の記録")).fill("折り返しで氏名・生年月日・住所を確認")
    pc_page.get_by_label("現在のトークンの利用を再開する").check()
    pc_page.get_by_label(re.compile("^(【必須】)?理由$")).fill("ご本人からの再開依頼")
    shot(pc_page, "helpdesk-lift-request")
    pc_page.get_by_role("button", name="利用再開を申請する").click()
    expect(pc_page.locator("#done-message")).to_contain_text("利用再開を申請しました")
    expect(pc_page.locator("#pending-lift")).to_contain_text("ご自身の申請は承認できません")

    with second_browser(browser, live_server) as other:
        operator_logs_in(other, "sato", approver)
        other.get_by_role("link", name="内容を確認").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("利用再開の承認")
        other.get_by_label(re.compile("判断の理由")).fill("記録を確認し承認")
        shot(other, "helpdesk-lift-approve")
        other.get_by_role("button", name="承認して再開する").click()
        expect(other.locator("#done-message")).to_contain_text("利用再開を承認しました")
    customer.refresh_from_db()
    token.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert token.state == Token.State.IN_USE
    assert LiftRequest.objects.get().decided_by.username == "sato"  # type: ignore[union-attr]


def test_the_link_in_a_mail_shows_a_page_and_only_its_button_stops(
    page: Page, customer: Customer
) -> None:
    path = emergency_stop_url(customer)[len(str(settings.NETBANK_PUBLIC_URL).rstrip("/")) :]
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("お取引の緊急停止")
    expect(page.locator("main")).to_contain_text(f"{NAME} 様")
    shot(page, "customer-stop-link")
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE  # opening it stopped nothing
    page.get_by_role("button", name="お取引を停止する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お取引の緊急停止（完了）")
    shot(page, "customer-stop-done")
    customer.refresh_from_db()
    assert customer.status == Customer.Status.SUSPENDED
