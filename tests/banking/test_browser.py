"""振替, 振込 (with 取引認証 played by the token app's code) and 振込予約 in Chromium,
on a PC and on a phone. Any JavaScript error or CSP violation fails the test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from netbank.banking.models import Account, AccountType, Payee, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.selectors import ledger_check
from netbank.customers.models import Customer
from netbank.otp.models import Token
from netbank.token_app.signing import describe_question, sign_question
from tests.banking.factories import (
    PASSWORD,
    TRANSACTION_PASSWORD,
    current_otp,
    issue_token,
    open_account,
    other_bank,
)
from tests.browser.support import shot
from tests.customers.factories import make_customer

pytestmark = pytest.mark.browser


@pytest.fixture
def bank_customer(transactional_db: None) -> tuple[Customer, Account, Token, bytes]:
    customer = make_customer(login_id="bankweb01")
    account = open_account(customer, balance=200_000)
    token, signing_key = issue_token(customer)
    return customer, account, token, signing_key


def log_in(page: Page, customer: Customer, token: Token) -> None:
    page.goto("/")
    page.get_by_label(re.compile(r"ログインID$")).fill(customer.login_id)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(current_otp(token))
    page.get_by_role("button", name="認証する", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("トップ")


def type_transaction_password(page: Page) -> None:
    """The leaflet's way: the software keyboard is on; clearing its box lets one type."""
    checkbox = page.get_by_label("ソフトウェアキーボードで入力する")
    expect(checkbox).to_be_checked()
    checkbox.uncheck()
    page.locator("#id_transaction_password").fill(TRANSACTION_PASSWORD)


def test_furikae_between_own_accounts(
    page: Page, bank_customer: tuple[Customer, Account, Token, bytes]
) -> None:
    customer, account, token, _key = bank_customer
    savings = open_account(customer, account_type=AccountType.SAVINGS)
    log_in(page, customer, token)
    page.goto("/banking/balance/")
    expect(page.get_by_role("heading", level=1)).to_have_text("残高照会")
    expect(page.locator("main")).to_contain_text("200,000円")
    shot(page, "banking-balance")
    page.get_by_role("link", name="振替", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振替（入力）")
    page.get_by_label(re.compile("入金口座")).select_option(str(savings.pk))
    page.get_by_label(re.compile("振替金額")).fill("５０，０００")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振替（確認）")
    expect(page.locator("main .order")).to_contain_text("50,000円")
    type_transaction_password(page)
    shot(page, "banking-furikae-confirm")
    page.get_by_role("button", name="確定する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振替（完了）")
    shot(page, "banking-furikae-done")
    # The back button and resubmitting the 確認 form do not transfer again.
    page.go_back()
    if page.get_by_role("button", name="確定する").count():
        type_transaction_password(page)
        page.get_by_role("button", name="確定する").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("振替（完了）")
    assert Transfer.objects.count() == 1
    account.refresh_from_db()
    assert account.balance == 150_000
    assert ledger_check() == []


def test_furikomi_to_a_new_payee_signed_in_the_token_app(
    page: Page, bank_customer: tuple[Customer, Account, Token, bytes]
) -> None:
    customer, account, token, signing_key = bank_customer
    log_in(page, customer, token)
    page.goto("/banking/furikomi/")
    page.get_by_role("link", name="新しい振込先を入力").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込（入力）")
    page.get_by_label(re.compile("金融機関コード")).fill("0005")
    page.get_by_label(re.compile("支店コード")).fill("123")
    page.get_by_label(re.compile("口座番号")).fill("765432")  # six digits: refused
    page.get_by_label(re.compile("受取人名")).fill("すずき　はなこ")
    page.get_by_label(re.compile("振込金額")).fill("30000")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("main")).to_contain_text("口座番号は7桁の数字で入力してください。")
    page.get_by_label(re.compile("口座番号")).fill("7654321")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込（確認）")
    expect(page.locator("main .order")).to_contain_text("ｽｽﾞｷ ﾊﾅｺ")
    expect(page.locator(".signing-box")).to_be_visible()
    shot(page, "banking-furikomi-confirm-signing")

    # The token app: it reads the question, shows the payee and amount, then signs.
    question = page.locator(".signing-question").inner_text().replace(" ", "")
    request = describe_question(question)
    assert (request.bank_code, request.branch_code, request.account_number) == (
        "0005",
        "123",
        "7654321",
    )
    assert request.amount == 30_000
    assert request.nonce == page.locator(".signing-nonce").inner_text()
    code = sign_question(signing_key, question)

    page.get_by_label(re.compile("取引認証番号")).fill("00000000")
    type_transaction_password(page)
    page.get_by_role("button", name="確定する").click()
    expect(page.locator("main")).to_contain_text("取引認証番号が正しくありません")
    assert Transfer.objects.count() == 0

    page.get_by_label(re.compile("取引認証番号")).fill(code)
    type_transaction_password(page)
    page.get_by_role("button", name="確定する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込（完了）")
    expect(page.locator("main")).to_contain_text("30,000円")
    shot(page, "banking-furikomi-done")
    account.refresh_from_db()
    assert account.balance == 170_000
    assert Transfer.objects.get().signed


def test_furikomi_reservation_listed_and_cancelled(
    page: Page, bank_customer: tuple[Customer, Account, Token, bytes]
) -> None:
    customer, account, token, _key = bank_customer
    payee_seed(customer=customer, destination=other_bank(), nickname="花子さん")
    payee = Payee.objects.get()
    log_in(page, customer, token)
    page.goto("/banking/furikomi/")
    page.get_by_role("link", name="選択", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込（入力）")
    page.get_by_label(re.compile("振込金額")).fill("12000")
    page.get_by_label(re.compile("振込指定日")).select_option("2026-11-30")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込予約（確認）")
    type_transaction_password(page)
    page.get_by_role("button", name="確定する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込予約（完了）")
    shot(page, "banking-scheduled-done")
    page.get_by_role("link", name="振込予約の照会・取消へ").click()
    expect(page.locator("main")).to_contain_text("2026/11/30")
    page.get_by_role("link", name="取消", exact=True).click()
    page.get_by_role("button", name="取り消す").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込予約の取消（完了）")
    transfer = Transfer.objects.get()
    assert transfer.state == Transfer.State.CANCELLED
    assert transfer.payee_id == payee.pk
    account.refresh_from_db()
    assert account.balance == 200_000


def test_statement_and_csv_download(
    pc_page: Page, bank_customer: tuple[Customer, Account, Token, bytes]
) -> None:
    page = pc_page
    customer, account, token, _key = bank_customer
    log_in(page, customer, token)
    page.goto(f"/banking/accounts/{account.pk}/statement/")
    expect(page.get_by_role("heading", level=1)).to_have_text("入出金明細")
    expect(page.locator("main table.statement")).to_contain_text("200,000円")
    link = page.get_by_role("link", name="CSVダウンロード")
    expect(link).to_have_attribute("download", "")
    # Fetched with the page's own session (Playwright's download files are not closed).
    response = page.request.get(str(link.get_attribute("href")))
    assert response.ok
    assert response.headers["content-disposition"].startswith('attachment; filename="meisai_')
    content = response.body()
    assert content.startswith(b"\xef\xbb\xbf")
    assert "日付,時刻,摘要,お支払金額,お預り金額,差引残高" in content.decode("utf-8-sig")
