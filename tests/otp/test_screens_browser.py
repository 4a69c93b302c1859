"""The PC screens in Chromium: トークン発行 with the software keyboard, with the keyboard
turned off by its checkbox, and with JavaScript disabled altogether.

Any JavaScript error or CSP violation on a page fails the test (the page watcher).
Screenshots of each screen go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Generator

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from netbank.customers.models import Customer
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from tests.browser import support as browser_support
from tests.browser.support import shot
from tests.otp.test_screens_support import (
    ACTIVATION_PASSWORD,
    ANSWER,
    LOGIN_PASSWORD,
    PHONE,
    TRANSACTION_PASSWORD,
    make_customer,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def customer(transactional_db: None) -> Customer:
    return make_customer()


def _log_in(page: Page, customer: Customer) -> None:
    page.goto("/")
    page.get_by_label(re.compile(r"ログインID$")).fill(customer.login_id)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(LOGIN_PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page).to_have_url(re.compile(r"/top/$"))


def _to_issue_input(page: Page) -> None:
    page.get_by_role("link", name="各種お申込・手続き").first.click()
    page.locator("main").get_by_role("link", name="ワンタイムパスワード", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ワンタイムパスワード申請内容選択")
    shot(page, "otp-menu")
    page.get_by_role("link", name="トークン発行", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("トークン発行（入力）")


def _fill_input(page: Page) -> None:
    page.get_by_label(re.compile(r"携帯電話メールアドレス$")).fill(PHONE)
    page.get_by_label(re.compile(r"利用開始パスワード$")).fill(ACTIVATION_PASSWORD)
    page.get_by_label(re.compile(r"利用開始パスワード（確認用）$")).fill(ACTIVATION_PASSWORD)
    shot(page, "otp-issue-input")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("トークン発行（確認）")


def _type_on_keyboard(page: Page, text: str) -> None:
    keys = page.get_by_role("group", name="ソフトウェアキーボード")
    for ch in text:
        if ch.isupper():
            keys.get_by_role("button", name="英大文字").click()
        elif ch.islower():
            keys.get_by_role("button", name="英小文字").click()
        elif not ch.isdigit():
            keys.get_by_role("button", name="記号").click()
        keys.get_by_role("button", name=ch, exact=True).click()


def _expect_done(page: Page, customer: Customer) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("トークン発行（完了）")
    expect(page.locator("main")).to_contain_text("メールを送信しました")
    assert Token.objects.filter(customer=customer, state=Token.State.ISSUED).count() == 1
    assert OutboxMail.objects.filter(purpose="otp_token_mail", to_addr=PHONE).exists()


def test_issue_with_the_software_keyboard(pc_page: Page, customer: Customer) -> None:
    page = pc_page
    _log_in(page, customer)
    _to_issue_input(page)
    _fill_input(page)

    field = page.locator("#id_transaction_password")
    checkbox = page.get_by_label("ソフトウェアキーボードで入力する")
    expect(checkbox).to_be_checked()
    expect(field).to_have_attribute("readonly", "")
    # Typing on the real keyboard does nothing while the software keyboard is on.
    field.press_sequentially("typed")
    expect(field).to_have_value("")
    _type_on_keyboard(page, TRANSACTION_PASSWORD)
    expect(field).to_have_value(TRANSACTION_PASSWORD)
    keys = page.get_by_role("group", name="ソフトウェアキーボード")
    keys.get_by_role("button", name="1文字削除").click()
    expect(field).to_have_value(TRANSACTION_PASSWORD[:-1])
    _type_on_keyboard(page, TRANSACTION_PASSWORD[-1])
    page.get_by_label(re.compile(r"回答")).fill(ANSWER)
    shot(page, "otp-issue-confirm")
    page.get_by_role("button", name="確定する").click()
    _expect_done(page, customer)
    shot(page, "otp-issue-done")


def test_digit_keys_are_reshuffled(pc_page: Page, customer: Customer) -> None:
    page = pc_page
    _log_in(page, customer)
    _to_issue_input(page)
    _fill_input(page)
    orders = set()
    for _ in range(6):
        first_row = page.locator("[data-softkeyboard-panel] .softkeyboard-row").first
        orders.add(first_row.inner_text())
        page.get_by_role("button", name="クリア").click()
    assert len(orders) > 1  # 6 draws of 10! orders: equal by chance with p < 1e-30
    # The letters sit in their keyboard rows: z starts the bottom row.
    rows = page.locator("[data-softkeyboard-panel] .softkeyboard-row")
    letters = [rows.nth(i).inner_text().split() for i in range(1, rows.count())]
    assert letters == [list("qwertyuiop"), list("asdfghjkl"), list("zxcvbnm")]
    # 戻る comes back to 入力 with the address entered; the password is typed again.
    page.get_by_role("button", name="戻る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("トークン発行（入力）")
    expect(page.get_by_label(re.compile(r"携帯電話メールアドレス$"))).to_have_value(PHONE)
    expect(page.get_by_label(re.compile(r"利用開始パスワード$"))).to_have_value("")


def test_clearing_the_checkbox_lets_the_customer_type(pc_page: Page, customer: Customer) -> None:
    page = pc_page
    _log_in(page, customer)
    _to_issue_input(page)
    _fill_input(page)
    page.get_by_label("ソフトウェアキーボードで入力する").uncheck()
    expect(page.get_by_role("group", name="ソフトウェアキーボード")).to_be_hidden()
    field = page.locator("#id_transaction_password")
    expect(field).not_to_have_attribute("readonly", "")
    field.fill(TRANSACTION_PASSWORD)
    page.get_by_label(re.compile(r"回答")).fill(ANSWER)
    page.get_by_role("button", name="確定する").click()
    _expect_done(page, customer)


@pytest.fixture
def no_js_page(browser: Browser, live_server: LiveServer) -> Generator[Page]:
    context = browser.new_context(
        base_url=live_server.url,
        locale=browser_support.LOCALE,
        timezone_id=browser_support.TIMEZONE,
        java_script_enabled=False,
        **browser_support.VIEWPORTS["pc"],
    )
    context.set_default_timeout(10_000)
    page = browser_support.new_watched_page(context, "pc-nojs")
    try:
        yield page
    finally:
        context.close()
        browser_support.forget_page(page)


def test_issue_works_without_javascript(no_js_page: Page, customer: Customer) -> None:
    page = no_js_page
    _log_in(page, customer)
    page.goto("/procedures/otp/issue/")
    _fill_input(page)
    # No checkbox and no keys without the script: just the password input.
    expect(page.get_by_label("ソフトウェアキーボードで入力する")).to_be_hidden()
    page.locator("#id_transaction_password").fill(TRANSACTION_PASSWORD)
    page.get_by_label(re.compile(r"回答")).fill(ANSWER)
    shot(page, "otp-issue-confirm-nojs")
    page.get_by_role("button", name="確定する").click()
    _expect_done(page, customer)


def test_wrong_input_shows_messages_next_to_the_fields(pc_page: Page, customer: Customer) -> None:
    page = pc_page
    _log_in(page, customer)
    _to_issue_input(page)
    page.get_by_label(re.compile(r"携帯電話メールアドレス$")).fill("not-an-address")
    page.get_by_label(re.compile(r"利用開始パスワード$")).fill("１２３４")
    page.get_by_label(re.compile(r"利用開始パスワード（確認用）$")).fill("１２３４")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("#id_email_error")).to_contain_text("形式が正しくありません")
    expect(page.locator("#id_activation_password_error")).to_contain_text("半角数字")
    shot(page, "otp-issue-input-errors")
    # Nine digits typed key by key reach the server whole and are refused there.
    page.get_by_label(re.compile(r"携帯電話メールアドレス$")).fill(PHONE)
    for label in (r"利用開始パスワード$", r"利用開始パスワード（確認用）$"):
        field = page.get_by_label(re.compile(label))
        field.fill("")
        field.press_sequentially("123456789")
        expect(field).to_have_value("123456789")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("トークン発行（入力）")
    expect(page.locator("#id_activation_password_error")).to_contain_text("8文字以内")
    assert not Token.objects.exists()


def test_authenticator_qr_page_and_start_use(pc_page: Page, customer: Customer) -> None:
    import pyotp

    page = pc_page
    _log_in(page, customer)
    page.goto("/procedures/otp/")
    page.get_by_role("link", name="認証アプリで登録").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("認証アプリの登録（確認）")
    page.get_by_label("ソフトウェアキーボードで入力する").uncheck()
    page.locator("#id_transaction_password").fill(TRANSACTION_PASSWORD)
    page.get_by_label(re.compile(r"回答")).fill(ANSWER)
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("認証アプリの登録（利用開始）")
    qr = page.get_by_role("img", name="認証アプリ登録用のQRコード")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # the data: SVG loaded under the CSP
    key = page.locator("code.otp-key").inner_text().replace(" ", "")
    shot(page, "otp-authenticator-setup")
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="利用開始する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "ワンタイムパスワード利用開始（完了）"
    )
    expect(page.locator("main")).to_contain_text(
        "以降、ログインの際ワンタイムパスワードの入力が必要です"
    )
    shot(page, "otp-start-use-done")
    assert Token.objects.get(customer=customer).state == Token.State.IN_USE
