"""WCAG 2.1 AA by axe-core in Chromium: the customer's and the console's pages, in their
normal state and with errors on screen, on a PC and on a phone.

axe-core comes bundled in the pinned ``axe-playwright-python`` package (nothing is fetched
at test time) and runs inside the real page, so it sees the styles, the contrast and the
accessibility tree the browser built. Every rule of the four WCAG 2.1 A/AA tags runs;
none is switched off. One test a viewport walks every page, so Chromium is launched once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from netbank import clock
from netbank.banking.models import AccountType
from netbank.customers.models import Customer
from netbank.helpdesk.models import OperatorCredential
from netbank.helpdesk.operators import operator_create
from netbank.helpdesk.services import emergency_suspend, lift_request
from netbank.passkeys import services as passkey_services
from netbank.passkeys.models import Passkey
from tests.banking.factories import (
    PASSWORD,
    TRANSACTION_PASSWORD,
    current_otp,
    issue_token,
    open_account,
)
from tests.customers.factories import make_customer
from tests.helpdesk.factories import verified_check
from tests.helpdesk.test_actions import lock_login
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OPERATOR_PASSWORD = "Helpdesk-Pass-2026"

_axe = Axe()

# What axe leaves to a person (a description naming an id that exists on no element is
# "needs review" there, not a violation): every id an aria-describedby names exists, and
# every field error is named by an invalid input (or the group of choices it belongs to).
_TIED_ERRORS = """() => {
  const problems = [];
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const ref of el.getAttribute("aria-describedby").split(/\\s+/).filter(Boolean)) {
      if (!document.getElementById(ref)) problems.push(`${el.outerHTML.slice(0, 120)} names #${ref}`);
    }
  }
  for (const error of document.querySelectorAll(".field-error")) {
    const named = error.id ? [...document.querySelectorAll("[aria-describedby]")].filter(
      (el) => el.getAttribute("aria-describedby").split(/\\s+/).includes(error.id)) : [];
    if (!named.length) problems.push(`the error "${error.textContent.trim()}" is named by no input`);
    for (const el of named) {
      const inputs = el.tagName === "FIELDSET" ? [...el.querySelectorAll("input")] : [el];
      for (const input of inputs) {
        if (input.getAttribute("aria-invalid") !== "true") {
          problems.push(`${input.outerHTML.slice(0, 120)} is not aria-invalid`);
        }
      }
    }
  }
  return problems;
}"""


class Audit:
    """Runs axe on each page visited and keeps what it found, page by page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: list[str] = []
        self.checked: list[str] = []

    def check(self, label: str) -> None:
        self.page.wait_for_load_state("load")
        results = _axe.run(
            self.page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_21_AA},
                "resultTypes": ["violations"],
            },
        )
        self.checked.append(label)
        for problem in self.page.evaluate(_TIED_ERRORS):
            self.found.append(f"{label} ({self.page.url}): {problem}")
        for violation in results.response["violations"]:
            for node in violation["nodes"]:
                self.found.append(
                    f"{label} ({self.page.url}): {violation['id']} {violation['help']}\n"
                    f"    {node['target']} {node.get('failureSummary', '')[:300]}\n"
                    f"    {node['html'][:200]}"
                )

    def visit(self, path: str, label: str) -> None:
        self.page.goto(path)
        self.check(label)

    def submit_empty(self, path: str, label: str) -> None:
        """The page's form sent as it stands (nothing or defaults typed): its error state."""
        self.page.goto(path)
        self.check(label)
        form = self.page.locator("main form[method=post]").filter(
            has=self.page.locator("button[type=submit]:not(.btn-secondary)")
        )
        for field in form.locator("input[type=text]:visible, textarea:visible").all():
            field.fill("")
        form.locator("button[type=submit]:not(.btn-secondary)").first.click()
        self.page.wait_for_load_state("load")
        expect(self.page.locator(".form-error, .field-error").first).to_be_visible()
        self.check(f"{label}, with errors")


@pytest.fixture
def bank(transactional_db: None, live_server: LiveServer, settings: Settings) -> dict[str, Any]:
    """A customer with money, the token app and a passkey; a newcomer without OTP; customers
    locked, suspended and waiting for a 利用再開 decision; a locked operator; the supervisor
    who walks the console."""
    bank_url = live_server.url.replace("127.0.0.1", "localhost")
    settings.NETBANK_PUBLIC_URL = bank_url
    settings.NETBANK_PASSKEY_REQUIRED = False
    customer = make_customer(login_id="axe00001")
    account = open_account(customer, balance=300_000)
    open_account(customer, account_type=AccountType.SAVINGS)
    token, _key = issue_token(customer)
    soft = SoftAuthenticator(rp_id="localhost", origin=bank_url)
    passkey = passkey_services.register(
        customer=customer,
        response=soft.create(passkey_services.registration_options(customer=customer)),
        name="iPhone",
        ip=None,
    )
    # Registered two days ago: past the 24-hour hold on new payees that a new passkey starts.
    Passkey.objects.filter(pk=passkey.pk).update(created_at=clock.now() - timedelta(days=2))
    newcomer = make_customer(login_id="axe00003")
    enrolment = operator_create(
        username="axesup", password=OPERATOR_PASSWORD, role="supervisor", full_name="担当 監督"
    )
    asker = operator_create(
        username="axeop", password=OPERATOR_PASSWORD, role="operator", full_name="担当 受付"
    ).user
    locked = make_customer(login_id="axe00002")
    counter = lock_login(locked)
    pending = make_customer(login_id="axe00004")
    emergency_suspend(customer=pending, operator=asker, reason="不正送金の申告", ip=None)
    request = lift_request(
        customer=pending,
        operator=asker,
        reason="ご本人から再開の依頼",
        token_action="resume",
        check=verified_check(),
        ip=None,
    ).lift_request
    assert request is not None
    emergency_suspend(customer=locked, operator=asker, reason="不正送金の申告", ip=None)
    OperatorCredential.objects.filter(user=asker).update(locked_at=clock.now())
    return {
        "customer": customer,
        "account": account,
        "token": token,
        "passkey": passkey,
        "newcomer": newcomer,
        "totp": pyotp.TOTP(enrolment.secret_base32),
        "asker": asker,
        "locked": locked,
        "counter": counter,
        "lift_request": request,
    }


def log_in(page: Page, customer: Customer) -> None:
    page.goto("/")
    page.get_by_label(re.compile(r"ログインID$")).fill(customer.login_id)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()


def in_english(audit: Audit, path: str, label: str) -> None:
    """One form in English (the header's language switch), with its errors; then back."""
    page = audit.page
    page.locator("header").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit.submit_empty(path, f"{label} (English)")
    page.locator("header").get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def customer_pages(audit: Audit, bank: dict[str, Any]) -> None:
    page = audit.page
    customer: Customer = bank["customer"]
    audit.submit_empty("/", "ログイン")
    log_in(page, customer)
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill("12")
    page.get_by_role("button", name="認証する").click()
    audit.check("ワンタイムパスワード認証, with errors")
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(current_otp(bank["token"]))
    page.get_by_role("button", name="認証する").click()
    expect(page).to_have_url(re.compile(r"/top/$"))
    audit.check("トップ")
    for path, label in [
        ("/procedures/", "各種お申込・手続き"),
        ("/banking/balance/", "残高照会"),
        (f"/banking/accounts/{bank['account'].pk}/statement/", "入出金明細"),
        ("/banking/furikomi/", "振込"),
        ("/banking/scheduled/", "振込予約の照会・取消"),
        ("/banking/payees/", "登録先"),
        ("/procedures/otp/", "ワンタイムパスワード"),
        ("/procedures/passkeys/", "パスキー"),
        ("/security/login-history/", "ログイン履歴"),
        ("/security/emergency-stop/", "緊急停止"),
    ]:
        audit.visit(path, label)
    audit.visit(
        f"/banking/accounts/{bank['account'].pk}/statement/?date_from=2026-13-01",
        "入出金明細, with errors",
    )
    audit.submit_empty("/banking/furikomi/input/", "振込（入力）")
    audit.submit_empty("/banking/payees/add/", "登録先の登録")
    audit.submit_empty("/banking/limit/", "振込限度額")
    audit.submit_empty("/procedures/secret-questions/", "追加認証の質問")
    audit.submit_empty("/procedures/passkeys/register/", "パスキーの登録")
    audit.submit_empty("/procedures/otp/cancel/", "トークンの利用解除")
    # 登録先の登録（確認）: the 登録名 typed on 入力, and the confirmation it asks for.
    page.goto("/banking/payees/add/")
    for name, value in [
        ("bank_code", "0005"),
        ("branch_code", "123"),
        ("account_number", "7654321"),
        ("name_kana", "ｽｽﾞｷ ﾊﾅｺ"),
        ("nickname", "花子さんの口座"),
    ]:
        page.locator(f"#id_{name}").fill(value)
    page.locator("main").get_by_role("button", name="次へ").click()
    expect(page.locator("main")).to_contain_text("花子さんの口座")
    audit.check("登録先の登録（確認）")
    passkey = bank["passkey"].pk
    audit.submit_empty(f"/procedures/passkeys/{passkey}/rename/", "パスキーの名前の変更")
    audit.submit_empty(f"/procedures/passkeys/{passkey}/remove/", "パスキーの削除")
    # 振込 to a new payee: 確認 with the 取引認証 box, sent without its codes.
    page.goto("/banking/furikomi/input/")
    for name, value in [
        ("bank_code", "0005"),
        ("branch_code", "123"),
        ("account_number", "7654321"),
        ("name_kana", "ｽｽﾞｷ ﾊﾅｺ"),
        ("amount", "20000"),
    ]:
        page.locator(f"#id_{name}").fill(value)
    page.locator("main").get_by_role("button", name="次へ").click()
    audit.check("振込（確認）, with the passkey")
    # The customer's passkey confirms by script; the 取引認証番号 is the other way.
    page.get_by_role("button", name=re.compile("取引認証番号")).click()
    audit.check("振込（確認）, with the 取引認証番号")
    page.locator("main form[method=post] button[type=submit]:not(.btn-secondary)").first.click()
    expect(page.locator(".form-error, .field-error").first).to_be_visible()
    audit.check("振込（確認）, with errors")
    # 振込限度額: lowered, then 確認 without the 確認用パスワード.
    page.goto("/banking/limit/")
    page.locator("#id_new_limit").fill("50000")
    page.locator("main").get_by_role("button", name="次へ").click()
    audit.check("振込限度額（確認）")
    page.locator("main form[method=post] button[type=submit]:not(.btn-secondary)").first.click()
    expect(page.locator(".form-error, .field-error").first).to_be_visible()
    audit.check("振込限度額（確認）, with errors")
    # 振替: 入力 with an amount, then 確認 without the 確認用パスワード.
    page.goto("/banking/furikae/")
    audit.check("振替（入力）")
    page.get_by_label(re.compile("金額")).fill("1000")
    page.locator("main").get_by_role("button", name="次へ").click()
    if page.locator(".form-error, .field-error").count():
        audit.check("振替（入力）, with errors")
        page.get_by_label(re.compile("入金口座")).select_option(index=1)
        page.locator("main").get_by_role("button", name="次へ").click()
    audit.check("振替（確認）")
    page.locator("main").get_by_role("button", name=re.compile("確定|実行")).first.click()
    expect(page.locator(".form-error, .field-error").first).to_be_visible()
    audit.check("振替（確認）, with errors")
    page.get_by_label("ソフトウェアキーボードで入力する").uncheck()
    page.locator("#id_transaction_password").fill(TRANSACTION_PASSWORD)
    page.locator("main form[method=post] button[type=submit]:not(.btn-secondary)").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("完了")
    audit.check("振替（完了）")
    in_english(audit, "/banking/payees/add/", "登録先の登録")
    page.locator("header").get_by_role("button", name="ログアウト").click()
    audit.check("ログアウト")


def newcomer_pages(audit: Audit, bank: dict[str, Any]) -> None:
    """A customer without OTP: the token's application on a PC, SLI012 on a phone."""
    page = audit.page
    for path, label in [
        ("/no-such-page/", "ページが見つかりません"),
        ("/security/emergency-stop/not-a-link/", "緊急停止（無効なリンク）"),
        ("/login/direct/invalid/", "Directログイン（無効なURL）"),
    ]:
        audit.visit(path, label)
    log_in(page, bank["newcomer"])
    if "/sp/otp/apply/" in page.url:
        audit.submit_empty("/sp/otp/apply/", "ワンタイムパスワード利用申請")
        return
    expect(page).to_have_url(re.compile(r"/top/$"))
    audit.check("トップ（OTP未登録）")
    audit.submit_empty("/procedures/otp/issue/", "トークン発行（入力）")
    audit.submit_empty("/procedures/otp/authenticator/", "認証アプリの登録")
    audit.visit("/app/", "アプリのダウンロード")


def console_pages(audit: Audit, bank: dict[str, Any]) -> None:
    page = audit.page
    customer: Customer = bank["customer"]
    audit.submit_empty("/helpdesk/login/", "オペレーターログイン")
    page.get_by_label(re.compile(r"ユーザー名$")).fill("axesup")
    page.get_by_label(re.compile(r"パスワード$")).first.fill(OPERATOR_PASSWORD)
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(bank["totp"].at(clock.now()))
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お客さま検索")
    audit.check("お客さま検索")
    audit.visit("/helpdesk/?q=", "お客さま検索, with errors")
    audit.visit(f"/helpdesk/?q={customer.login_id}", "お客さま検索の結果")
    base = f"/helpdesk/customers/{customer.pk}"
    audit.visit(f"{base}/", "お客さま情報")
    audit.visit(f"{base}/audit/", "監査記録")
    audit.visit("/helpdesk/operators/", "オペレーター")
    locked = f"/helpdesk/customers/{bank['locked'].pk}"
    for path, label in [
        (f"{locked}/unlock/{bank['counter'].pk}/", "ロック解除"),
        (f"{locked}/lift/", "利用再開の申請"),
        (f"/helpdesk/lift-requests/{bank['lift_request'].pk}/", "利用再開の承認"),
        (f"/helpdesk/operators/{bank['asker'].pk}/unlock/", "オペレーターのロック解除"),
        (f"{base}/passkeys/{bank['passkey'].pk}/revoke/", "パスキーの失効"),
        (f"{base}/token-reset/", "トークンの失効"),
        (f"{base}/token-mail/", "トークン発行メールの再送"),
        (f"{base}/login-recovery/", "パスキーを使わないログインの許可"),
        (f"{base}/suspend/", "緊急利用停止"),
    ]:
        audit.submit_empty(path, label)


Walk = Callable[[Audit, dict[str, Any]], None]


@pytest.mark.parametrize(
    "walk",
    [customer_pages, newcomer_pages, console_pages],
    ids=["customer", "newcomer", "console"],
)
def test_pages_have_no_wcag_21_aa_violations(page: Page, bank: dict[str, Any], walk: Walk) -> None:
    audit = Audit(page)
    walk(audit, bank)
    assert len(audit.checked) >= 2
    assert not audit.found, f"{len(audit.found)} accessibility problem(s):\n" + "\n".join(
        audit.found
    )


def test_axe_finds_what_it_should_in_this_browser(pc_page: Page) -> None:
    """The checker itself: a page with an unlabelled input, grey-on-white text and an
    input naming a missing description is reported, so 0 violations above means 0."""
    pc_page.set_content(
        '<!DOCTYPE html><html lang="ja"><head><title>t</title></head><body><main>'
        '<p style="color:#aaa;background:#fff">薄い文字</p><input type="text">'
        '<label for="a">名前</label><input id="a" aria-describedby="gone">'
        "</main></body></html>"
    )
    audit = Audit(pc_page)
    audit.check("sample")
    assert any(" label " in f for f in audit.found), audit.found
    assert any(" color-contrast " in f for f in audit.found), audit.found
    assert any("names #gone" in f for f in audit.found), audit.found
