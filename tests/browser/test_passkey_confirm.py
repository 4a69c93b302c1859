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

import json
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


def id_and_password(page: Page, bank_url: str, customer: Customer) -> None:
    """The login page's first step: ログインID and ログインパスワード."""
    page.goto(bank_url + "/")
    page.get_by_label(re.compile(r"ログインID$")).fill(customer.login_id)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()


def otp_log_in(
    page: Page,
    bank_url: str,
    customer: Customer,
    token: Token,
    soft: SoftAuthenticator | None = None,
) -> None:
    """ID, password and OTP; then Chromium gets the passkey ``soft``. Added after the
    login: on the login page the browser would offer the passkey itself (conditional UI),
    and the virtual authenticator always says yes."""
    id_and_password(page, bank_url, customer)
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(current_otp(token))
    page.get_by_role("button", name="認証する", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("トップ")
    if soft is not None:
        VirtualAuthenticator(page).add(soft)


def passkey_log_in(page: Page, bank_url: str, soft: SoftAuthenticator) -> None:
    """The login page with the passkey ``soft`` in Chromium: it offers the passkey in the
    ログインID field (conditional UI) and the virtual authenticator answers at once; the
    button is the other way."""
    VirtualAuthenticator(page).add(soft)
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
    otp_log_in(page, bank_url, customer, token, soft)
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
    otp_log_in(page, bank_url, customer, token, soft)
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
    id_and_password(page, bank_url, customer)
    expect(page.locator("main")).to_contain_text("パスキーでログインしてください")
    expect(page.locator("main")).to_contain_text("ヘルプデスク")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    shot(page, "login-passkey-required")
    assert AuditRecord.objects.filter(event="login.refused_passkey_required").count() == 1
    passkey_log_in(page, bank_url, soft)
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
    passkey_log_in(page, bank_url, soft)
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
    # Refused once: the page that says why does not ask the passkey again by itself.
    page.wait_for_timeout(1000)
    assert (
        AuditRecord.objects.filter(
            event="passkey.refused", data__reason="suspended", customer_id=customer.pk
        ).count()
        == 1
    )


# --- Secure Payment Confirmation -------------------------------------------------------

# Whether the page's browser can run SPC (the constructor and canMakePayment, which the
# CLAIM_SPC script leaves alone): "" if so, else the browser's error, e.g. Debian's
# Chromium 156: 'NotSupportedError: The payment method "secure-payment-confirmation" is
# not supported.'.
SPC_PROBE = """async () => {
  if (typeof PaymentRequest !== "function") return "no PaymentRequest";
  try {
    const probe = new PaymentRequest([{supportedMethods: "secure-payment-confirmation",
      data: {credentialIds: [new Uint8Array(16)], challenge: new Uint8Array(16),
             rpId: location.hostname, payeeName: "-",
             instrument: {displayName: "-", icon: location.origin + "/favicon.ico"}}}],
      {total: {label: "-", amount: {currency: "JPY", value: "1"}}});
    return (await probe.canMakePayment()) ? "" : "canMakePayment false";
  } catch (e) { return e.name + ": " + e.message; }
}"""

# A browser that says it offers SPC (passkey.js then asks for the payment extension and
# passkey_confirm.js for the payment dialog) but cannot build the request.
CLAIM_SPC = """
if (typeof PaymentRequest === "function") {
  PaymentRequest.isSecurePaymentConfirmationAvailable = async () => true;
}
"""


def register_in_browser(page: Page, bank_url: str, token: Token) -> Passkey:
    """各種お申込・手続き → パスキー → 登録, with the virtual authenticator."""
    page.goto(bank_url + "/procedures/passkeys/")
    page.locator("main").get_by_role("link", name="パスキーを登録する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキーの登録（確認）")
    page.get_by_label(re.compile(r"パスキーの名前$")).fill("このPC")
    clock.advance(30)  # the login's OTP is spent: the next one
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(current_otp(token))
    type_transaction_password(page)
    page.locator("main button[type=submit]").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキーの作成")
    page.get_by_role("button", name="パスキーを作成する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキーの登録（完了）")
    passkey = Passkey.objects.filter(name="このPC").get()
    # Past the 24-hour hold on new payees.
    Passkey.objects.filter(pk=passkey.pk).update(created_at=clock.now() - timedelta(days=2))
    return passkey


@pytest.mark.parametrize("browser_says", ["as-is", "claims-spc"])
def test_a_transfer_confirmed_through_spc_where_offered_else_the_plain_get(
    pc_page: Page,
    frozen_clock: object,
    bank_url: str,
    passkey_customer: tuple[Customer, Account, Token, SoftAuthenticator],
    browser_says: str,
) -> None:
    """Register a passkey in Chromium, then confirm a 振込 to a new payee. With SPC (CDP
    Page.setSPCTransactionMode autoAccept) the browser's dialog confirms and the bank
    verifies the payment.get; without it (Debian's headless Chromium) the page's plain
    get does. "claims-spc": the browser says SPC is available, so the passkey is created
    with the payment extension and the 確認 page asks for the dialog, which Chromium then
    cannot build (NotSupportedError): the page falls back to the plain get. Either way
    the amount executed is the amount shown."""
    page = pc_page
    customer, _account, token, _soft = passkey_customer
    if browser_says == "claims-spc":
        page.add_init_script(CLAIM_SPC)
    authenticator = VirtualAuthenticator(page)
    authenticator.cdp.send("Page.setSPCTransactionMode", {"mode": "autoAccept"})
    otp_log_in(page, bank_url, customer, token)
    spc_missing = page.evaluate(SPC_PROBE)
    passkey = register_in_browser(page, bank_url, token)
    # Registered for payment exactly where the browser offers (or says it offers) SPC.
    assert passkey.payment is (browser_says == "claims-spc" or not spc_missing), spc_missing

    new_payee_confirm(page, bank_url, "30000")
    expect(page.locator("main .order")).to_contain_text("30,000円")
    options = json.loads(
        page.locator("[data-passkey-options]").get_attribute("data-passkey-options") or "{}"
    )
    if passkey.payment:
        # The bank asks the browser's dialog to show payee and amount.
        assert options["spc"]["total"] == {"currency": "JPY", "value": "30000"}
        assert options["spc"]["payeeName"] == "ｽｽﾞｷ ﾊﾅｺ"
    else:
        assert "spc" not in options
    type_transaction_password(page)
    page.get_by_role("button", name=CONFIRM_BUTTON).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("振込（完了）")
    transfer = Transfer.objects.get()
    assert transfer.amount == 30_000
    assert transfer.signed
    accepted = AuditRecord.objects.get(event="passkey.accepted", data__purpose="confirm")
    assert accepted.data["passkey_id"] == passkey.pk
    used_spc = passkey.payment and not spc_missing
    assert accepted.data["assertion"] == ("payment.get" if used_spc else "webauthn.get")
