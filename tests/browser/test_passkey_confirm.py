"""Confirming a 振込 with a passkey in Chromium (CDP virtual authenticator: ctap2, internal,
resident keys, user verification on), and the attacks: an assertion of the same credential
made for another operation's challenge, the OTP login under NETBANK_PASSKEY_REQUIRED, and
緊急利用停止 during a passkey session. Every page fails the test on a JavaScript error or a
CSP violation (the 確認 page's module is a file, no inline script).

The bank is http://localhost:port (relying party "localhost"): pages are opened by full
URL, since the fixtures' base URL is the 127.0.0.1 origin that test_passkeys plays the
phishing site with.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.models import Account, Transfer
from netbank.customers.models import Customer
from netbank.helpdesk.operators import operator_create
from netbank.helpdesk.services import emergency_suspend
from netbank.otp.models import Token
from netbank.passkeys import services
from netbank.passkeys.models import Passkey
from tests.banking.factories import PASSWORD, current_otp, issue_token, open_account
from tests.banking.test_browser import type_transaction_password
from tests.browser.support import shot
from tests.browser.test_passkeys import VirtualAuthenticator
from tests.customers.factories import make_customer
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.browser

CONFIRM_BUTTON = "パスキーで確認して確定する"


@pytest.fixture
def bank_url(live_server: LiveServer, settings: Settings) -> str:
    """The bank is http://localhost:port (the relying party "localhost")."""
    url = live_server.url.replace("127.0.0.1", "localhost")
    settings.NETBANK_PUBLIC_URL = url
    return url


@pytest.fixture
def passkey_customer(
    transactional_db: None, bank_url: str, settings: Settings
) -> tuple[Customer, Account, Token, SoftAuthenticator]:
    """A customer with the token app in use for a month and a passkey registered two days
    ago (past the 24-hour hold on new payees), as the bank's service registered it."""
    settings.NETBANK_PASSKEY_REQUIRED = False
    customer = make_customer(login_id="pkconf01")
    account = open_account(customer, balance=300_000)
    token, _key = issue_token(customer)
    soft = SoftAuthenticator(rp_id="localhost", origin=bank_url)
    services.register(
        customer=customer,
        response=soft.create(services.registration_options(customer=customer)),
        name="iPhone",
        ip=None,
    )
    Passkey.objects.filter(customer=customer).update(created_at=clock.now() - timedelta(days=2))
    return customer, account, token, soft


def otp_log_in(page: Page, bank_url: str, customer: Customer, token: Token) -> None:
    page.goto(bank_url + "/")
    page.get_by_label(re.compile(r"ログインID$")).fill(customer.login_id)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(current_otp(token))
    page.get_by_role("button", name="認証する", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("トップ")


def passkey_log_in(page: Page, bank_url: str) -> None:
    """The login page: Chromium offers the passkey in the ログインID field (conditional
    UI) and the virtual authenticator answers at once; the button is the other way."""
    page.goto(bank_url + "/")
    heading = page.get_by_role("heading", level=1)
    try:
        expect(heading).to_have_text("トップ", timeout=5_000)
    except AssertionError:
        page.locator("main").get_by_role("button", name="パスキーでログイン", exact=True).click()
        expect(heading).to_have_text("トップ")


def new_payee_confirm(page: Page, bank_url: str, amount: str) -> None:
    """振込 → 新しい振込先を入力 → 入力 → 次へ: the 確認 screen."""
    page.goto(bank_url + "/banking/furikomi/")
    expect(page.locator("main")).to_contain_text("登録済みのパスキーで確認します")
    page.get_by_role("link", name="新しい振込先を入力").click()
    page.get_by_label(re.compile("金融機関コード")).fill("0005")
    page.get_by_label(re.compile("支店コード")).fill("123")
    page.get_by_label(re.compile("口座番号")).fill("7654321")
    page.get_by_label(re.compile("受取人名")).fill("すずき　はなこ")
    page.get_by_label(re.compile("振込金額")).fill(amount)
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込（確認）")


def test_a_transfer_to_a_new_payee_confirmed_with_the_passkey(
    pc_page: Page,
    bank_url: str,
    passkey_customer: tuple[Customer, Account, Token, SoftAuthenticator],
) -> None:
    page = pc_page
    customer, account, token, soft = passkey_customer
    # Added after the OTP login: on the login page the browser would offer the passkey
    # itself (conditional UI), and the virtual authenticator always says yes.
    otp_log_in(page, bank_url, customer, token)
    VirtualAuthenticator(page).add(soft)
    new_payee_confirm(page, bank_url, "30000")
    box = page.locator(".passkey-box")
    expect(box).to_be_visible()
    expect(page.locator("main .order")).to_contain_text("ｽｽﾞｷ ﾊﾅｺ")
    expect(page.locator("main .order")).to_contain_text("30,000円")
    # The 取引認証番号 is not asked; the token app stays available (passkey not required).
    expect(page.get_by_label(re.compile("取引認証番号$"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("取引認証番号"))).to_be_visible()
    type_transaction_password(page)
    shot(page, "banking-furikomi-confirm-passkey")
    page.get_by_role("button", name=CONFIRM_BUTTON).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込（完了）")
    expect(page.locator("main")).to_contain_text("30,000円")
    transfer = Transfer.objects.get()
    assert transfer.signed
    assert transfer.account_number == "7654321"
    account.refresh_from_db()
    assert account.balance == 270_000
    assert AuditRecord.objects.filter(event="banking.passkey.accepted").count() == 1
    assert Passkey.objects.get(customer=customer).last_used_at is not None


ASSERTION_OF_THIS_PAGE = """async () => {
  const box = document.querySelector("[data-passkey-options]");
  const options = JSON.parse(box.dataset.passkeyOptions);
  const credential = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
  });
  return JSON.stringify(credential.toJSON());
}"""


def test_the_same_credentials_assertion_for_another_operation_is_refused(
    pc_page: Page,
    bank_url: str,
    passkey_customer: tuple[Customer, Account, Token, SoftAuthenticator],
) -> None:
    """What a phisher (or malware) would try: get the customer's passkey to sign a harmless
    operation A, then present that assertion for operation B."""
    page = pc_page
    customer, account, token, soft = passkey_customer
    otp_log_in(page, bank_url, customer, token)
    VirtualAuthenticator(page).add(soft)
    new_payee_confirm(page, bank_url, "1000")
    assertion_a = page.evaluate(ASSERTION_OF_THIS_PAGE)
    assert '"type":"public-key"' in assertion_a
    page.get_by_role("button", name="戻る").click()
    page.get_by_label(re.compile("振込金額")).fill("250000")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("main .order")).to_contain_text("250,000円")
    # Operation B's 確認 form, carrying operation A's assertion.
    page.locator('input[name="passkey_response"]').evaluate(
        "(field, value) => { field.value = value; }", assertion_a
    )
    type_transaction_password(page)
    page.get_by_role("button", name=CONFIRM_BUTTON).click()
    expect(page.locator("main")).to_contain_text("パスキーによる確認ができませんでした")
    assert not Transfer.objects.exists()
    refused = AuditRecord.objects.get(event="passkey.refused", customer_id=customer.pk)
    assert refused.data["reason"] in {"operation", "invalid"}
    # The page asks again, for B itself this time: that confirms B.
    type_transaction_password(page)
    page.get_by_role("button", name=CONFIRM_BUTTON).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込（完了）")
    assert Transfer.objects.get().amount == 250_000
    account.refresh_from_db()
    assert account.balance == 50_000


def test_passkey_required_refuses_the_otp_login_and_the_passkey_logs_in(
    pc_page: Page,
    bank_url: str,
    settings: Settings,
    passkey_customer: tuple[Customer, Account, Token, SoftAuthenticator],
) -> None:
    page = pc_page
    customer, _account, _token, soft = passkey_customer
    settings.NETBANK_PASSKEY_REQUIRED = True
    page.goto(bank_url + "/")
    page.get_by_label(re.compile(r"ログインID$")).fill(customer.login_id)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.locator("main")).to_contain_text("パスキーでログインしてください")
    expect(page.locator("main")).to_contain_text("ヘルプデスク")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    shot(page, "login-passkey-required")
    assert AuditRecord.objects.filter(event="login.refused_passkey_required").count() == 1
    VirtualAuthenticator(page).add(soft)
    passkey_log_in(page, bank_url)
    # The 確認 screen offers no 取引認証番号 either.
    new_payee_confirm(page, bank_url, "1000")
    expect(page.get_by_role("button", name=re.compile("取引認証番号"))).to_have_count(0)


def test_emergency_suspension_during_a_passkey_session_ends_it(
    pc_page: Page,
    bank_url: str,
    passkey_customer: tuple[Customer, Account, Token, SoftAuthenticator],
) -> None:
    page = pc_page
    customer, _account, _token, soft = passkey_customer
    VirtualAuthenticator(page).add(soft)
    passkey_log_in(page, bank_url)
    page.goto(bank_url + "/banking/balance/")
    expect(page.get_by_role("heading", level=1)).to_have_text("残高照会")
    operator = operator_create(
        username="sup01", password="Helpdesk-Pass-2026", role="supervisor", full_name="担当"
    ).user
    assert isinstance(operator, User)
    emergency_suspend(customer=customer, operator=operator, reason="不正送金の申告", ip=None)
    page.goto(bank_url + "/banking/balance/")
    expect(page).to_have_url(re.compile(r"/\?ended=suspended$|/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")

    # And the passkey logs in no more: the login page asks for it at once (conditional
    # UI, which the virtual authenticator answers), else the button does.
    def refused() -> bool:
        return AuditRecord.objects.filter(
            event="passkey.refused", data__reason="suspended", customer_id=customer.pk
        ).exists()

    for _wait in range(25):
        if refused():
            break
        page.wait_for_timeout(200)
    else:
        page.locator("main").get_by_role("button", name="パスキーでログイン", exact=True).click()
    expect(page.locator("main")).to_contain_text("お取引は停止されています")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    assert refused()
