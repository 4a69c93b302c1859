"""The phone app end to end: the leaflet's journeys with the app served by the bank.

Real Chromium on Playwright's "iPhone 13" and "Pixel 7" descriptors (tests/browser/
support.py, APP_DEVICES), a live server, the real mail in the outbox. Nothing of the
app is played by Python here: the code the bank accepts is the one the app shows.

* iPhone 13: PC トークン発行 → the token mail → its URL → 「アプリを開く」 → 初期設定 →
  アプリロック → PIN → the code accepted by ワンタイムパスワード利用開始 on the PC; then
  offline the app opens from its service worker, unlocks and shows a code the bank
  accepts once the phone is back online; then 取引認証 for a 振込 to a new payee.
* Pixel 7: SLI012 → the mail → a forged activation answer refused (nothing sent in
  round two) → 初期設定 with fingerprint unlock (Chromium's virtual authenticator with
  PRF) → Directログイン completes 利用開始 and lands on /top/ → biometric unlock → 10
  wrong PINs wipe the vault (Playwright's clock skips the waits).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import F
from playwright.sync_api import Browser, Page, Route, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from netbank.banking.models import Account, Transfer
from netbank.customers.models import Customer
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from tests.banking.factories import open_account
from tests.browser import app_support as app
from tests.browser import test_phone_journey as sp
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

NEW_PAYEE = {"bank": "0005", "branch": "123", "account": "7654321", "name": "すずき　はなこ"}
AMOUNT = "30000"


@pytest.fixture
def bank_url(live_server: LiveServer, settings: Settings) -> str:
    """The mails' links point at the live server (NETBANK_PUBLIC_URL)."""
    settings.NETBANK_PUBLIC_URL = live_server.url
    return str(live_server.url)


# --- The PC side (the bank's own screens) ---------------------------------------------


def pc_log_in(page: Page, customer: Customer, code: str | None = None) -> None:
    page.goto("/")
    page.get_by_label(re.compile(r"ログインID$")).fill(customer.login_id)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(LOGIN_PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    if code is not None:
        app.heading(page, "ワンタイムパスワード認証")
        page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(code)
        page.get_by_role("button", name="認証する", exact=True).click()
    app.heading(page, "トップ")


def transaction_password(page: Page) -> None:
    page.get_by_label("ソフトウェアキーボードで入力する").uncheck()
    page.locator("#id_transaction_password").fill(TRANSACTION_PASSWORD)


def pc_issue(page: Page) -> None:
    """Leaflet part 1, Step 1: トークン発行（入力）→（確認）→（完了）."""
    page.goto("/procedures/otp/issue/")
    app.heading(page, "トークン発行（入力）")
    page.get_by_label(re.compile(r"携帯電話メールアドレス$")).fill(PHONE)
    page.get_by_label(re.compile(r"利用開始パスワード$")).fill(ACTIVATION_PASSWORD)
    page.get_by_label(re.compile(r"利用開始パスワード（確認用）$")).fill(ACTIVATION_PASSWORD)
    page.get_by_role("button", name="次へ").click()
    app.heading(page, "トークン発行（確認）")
    transaction_password(page)
    page.get_by_label(re.compile(r"回答")).fill(ANSWER)
    page.get_by_role("button", name="確定する").click()
    app.heading(page, "トークン発行（完了）")


def token_mail(to: str) -> tuple[str, str, str]:
    """サービスID, ユーザID and the download URL of the mail queued for the phone."""
    body = OutboxMail.objects.get(to_addr=to, purpose="otp_token_mail").body
    service = re.search(r"サービスID: (\S+)", body)
    user = re.search(r"ユーザID: ([0-9]{12})", body)
    url = re.search(r"(https?://\S+/app/)\s", body)
    assert service is not None, body
    assert user is not None, body
    assert url is not None, body
    return service[1], user[1], url[1]


def pc_start_use(page: Page, code: str) -> None:
    """Leaflet part 1, Step 3: ワンタイムパスワード利用開始 with the app's code."""
    page.goto("/procedures/otp/")
    page.get_by_role("link", name="ワンタイムパスワード利用開始", exact=True).click()
    app.heading(page, "ワンタイムパスワード利用開始")
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(code)
    page.get_by_role("button", name="利用開始する").click()
    app.heading(page, "ワンタイムパスワード利用開始（完了）")


def pc_furikomi_to_new_payee(page: Page) -> None:
    page.goto("/banking/furikomi/")
    page.get_by_role("link", name="新しい振込先を入力").click()
    app.heading(page, "振込（入力）")
    page.get_by_label(re.compile("金融機関コード")).fill(NEW_PAYEE["bank"])
    page.get_by_label(re.compile("支店コード")).fill(NEW_PAYEE["branch"])
    page.get_by_label(re.compile("口座番号")).fill(NEW_PAYEE["account"])
    page.get_by_label(re.compile("受取人名")).fill(NEW_PAYEE["name"])
    page.get_by_label(re.compile("振込金額")).fill(AMOUNT)
    page.get_by_role("button", name="次へ").click()


# --- iPhone 13: the PC journey, offline, 取引認証 ----------------------------------------


@pytest.fixture
def pc_customer(transactional_db: None) -> Customer:
    customer = make_customer("webapp01")
    open_account(customer, balance=200_000)
    return customer


def test_pc_issue_to_app_code_offline_and_signing_on_an_iphone(
    browser: Browser, pc_page: Page, pc_customer: Customer, bank_url: str
) -> None:
    pc = pc_page
    pc_log_in(pc, pc_customer)
    pc_issue(pc)
    service_id, user_id, url = token_mail(PHONE)
    assert url == bank_url + "/app/"

    with app.phone_app(browser, bank_url, "iPhone 13") as phone:
        # Step 2 on the phone: the mail's URL, the app, 初期設定, アプリロック, PIN.
        app.open_from_download_page(phone, url)
        # The bank's key is the one of the app's own origin (install.json), shown to
        # compare with the mail's fingerprint.
        fingerprint = re.search(r"署名鍵の指紋: ([0-9A-F]{4}(?: [0-9A-F]{4}){4})", mail_body())
        assert fingerprint is not None
        expect(phone.locator("main")).to_contain_text(fingerprint[1])
        app.set_up(phone, service_id, user_id, ACTIVATION_PASSWORD)
        app.app_lock_and_pin(phone)
        code = app.shown_code(phone)
        assert Token.objects.get(user_id=user_id).state == Token.State.ACTIVATED

        # Step 3 on the PC: the app's code starts the use of the token.
        pc_start_use(pc, code)
        token = Token.objects.get(user_id=user_id)
        assert token.state == Token.State.IN_USE

        # Offline: the app opens from its service worker with the phone's clock one
        # step (30 s) ahead, so its code is not the one 利用開始 used (a replay).
        app.sw_ready(phone)
        phone.context.set_offline(True)
        phone.context.clock.install(time=datetime.now(UTC) + timedelta(seconds=30))
        phone.reload()
        app.unlock(phone)
        offline_code = app.shown_code(phone)
        assert offline_code != code
        app.forget_offline_errors(phone)
        phone.context.set_offline(False)
        # Back online the bank accepts it at the login's ワンタイムパスワード認証.
        pc.locator("header").get_by_role("button", name="ログアウト", exact=True).click()
        pc_log_in(pc, pc_customer, code=offline_code)

        # 取引認証 for a 振込 to a new payee. Within 24 h of the issue the bank refuses it.
        pc.goto("/banking/furikomi/")
        expect(pc.locator("main")).to_contain_text("トークンの発行から24時間は")
        expect(pc.get_by_role("link", name="新しい振込先を入力")).to_have_count(0)
        # The day passes: the token was issued 25 hours ago.
        Token.objects.filter(pk=token.pk).update(created_at=F("created_at") - timedelta(hours=25))
        pc_furikomi_to_new_payee(pc)
        app.heading(pc, "振込（確認）")
        question = pc.locator(".signing-question").inner_text()
        nonce = pc.locator(".signing-nonce").inner_text().strip()

        app.control(phone, "取引認証").click()
        app.heading(phone, "取引認証")
        # 銀行から取得: the app fetches the pending question over its own channel and
        # shows what it reads from it: this very operation.
        app.button(phone, "銀行から取得").click()
        expect(phone.locator("main dl")).to_contain_text(nonce)
        expect(phone.locator("main dl")).to_contain_text("30,000円")
        app.button(phone, "戻る").click()
        app.heading(phone, "取引認証")
        # Typed as the screen shows it, in groups of four digits.
        phone.get_by_label(app.label("取引認証の質問")).fill(question)
        app.button(phone, "内容を確認").click()
        shown = phone.locator("main dl")
        debit = Account.objects.get(customer=pc_customer)
        for text in (
            "振込",
            f"{debit.branch_code}-{debit.account_number}",
            "即時（今すぐ振込）",
            "0005",
            "123",
            "普通",
            "7654321",
            "30,000円",
            nonce,  # the 取引番号, to match with the bank's 確認 screen
        ):
            expect(shown).to_contain_text(text)
        expect(phone.locator("#signing-code")).to_have_count(0)  # not before the customer reads
        app.button(phone, "取引認証番号を表示").click()
        signing_code = phone.locator("#signing-code")
        expect(signing_code).to_have_text(re.compile(r"^\s*(\d\s?){8}\s*$"))
        code8 = re.sub(r"\D", "", signing_code.inner_text())

        pc.get_by_label(re.compile("取引認証番号")).fill(code8)
        transaction_password(pc)
        pc.get_by_role("button", name="確定する").click()
        app.heading(pc, "振込（完了）")
        expect(pc.locator("main")).to_contain_text("30,000円")
        assert Transfer.objects.get().signed


def mail_body() -> str:
    return str(OutboxMail.objects.get(purpose="otp_token_mail").body)


# --- Pixel 7: SLI012, forged answer, fingerprint, Directログイン, wipe -------------------


@pytest.fixture
def sp_customer(transactional_db: None) -> Customer:
    from netbank.customers.services import customer_create

    return customer_create(
        login_id=sp.LOGIN_ID,
        name_kanji=sp.NAME,
        name_kana="ノウキョウ ハナコ",
        email="hanako@example.jp",
        password=sp.PASSWORD,
        transaction_password="Kakunin77",
        questions=[(sp.QUESTION, sp.ANSWER)],
    )


def virtual_authenticator(page: Page) -> tuple[Any, str]:
    """Chromium's virtual platform authenticator with the PRF extension: a phone's
    fingerprint sensor that always recognises its owner. Returns the CDP session and
    the authenticator's id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "ctap2Version": "ctap2_1",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "hasPrf": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])


def forge(field: str, change: Any, served: list[str]) -> Any:
    """A route handler that passes the bank's round-one answer on with one thing changed."""

    def handle(route: Route) -> None:
        response = route.fetch()
        answer = response.json()
        answer[field] = change(answer[field])
        served.append(field)
        route.fulfill(response=response, body=json.dumps(answer))

    return handle


def flip_last_char(text: str) -> str:
    return text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]


def test_smartphone_journey_with_fingerprint_direct_login_and_wipe_on_a_pixel(
    browser: Browser, sp_customer: Customer, bank_url: str
) -> None:
    with app.phone_app(browser, bank_url, "Pixel 7") as phone:
        phone.context.clock.install()  # real time, but the PIN waits can be skipped
        cdp, authenticator = virtual_authenticator(phone)  # before the app asks for one
        sp.log_in(phone)
        sp.expect_sli012(phone)
        sp.fill_sli012(phone)
        phone.get_by_role("button", name="確定する", exact=True).click()
        app.heading(phone, "ワンタイムパスワード利用申請（完了）")
        service_id, user_id = sp.read_token_mail()
        url = re.search(r"(https?://\S+/app/)\s", mail_body_to(sp.PHONE_MAIL))
        assert url is not None

        app.open_from_download_page(phone, url[1])

        # A forged round-one answer: a changed field, then a changed signature. The app
        # refuses it with its message and never sends round two.
        finishes: list[str] = []
        forged: list[str] = []
        phone.on(
            "request", lambda r: finishes.append(r.url) if "/activation/finish" in r.url else None
        )
        for field, change in (
            ("digits", lambda d: 8 if d != 8 else 6),
            ("signature", flip_last_char),
        ):
            phone.route("**/api/v1/activation/start", forge(field, change, forged))
            app.set_up(phone, service_id, user_id, sp.ACTIVATION_PASSWORD)
            expect(phone.locator("main")).to_contain_text(app.UNTRUSTED)
            app.heading(phone, "初期設定")
            phone.unroute("**/api/v1/activation/start")
        assert forged == ["digits", "signature"]  # the app did receive both forgeries
        assert finishes == []
        assert Token.objects.get(user_id=user_id).state == Token.State.ISSUED

        # The real answer; fingerprint unlock turned on with the PIN.
        app.set_up(phone, service_id, user_id, sp.ACTIVATION_PASSWORD)
        app.app_lock_and_pin(phone, biometric=True)
        app.shown_code(phone)
        # One credential made on the phone's authenticator, for this origin.
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
        assert len(credentials["credentials"]) == 1
        assert Token.objects.get(user_id=user_id).state == Token.State.ACTIVATED

        # Leaflet part 2, Step 3: Directログイン in the app opens the bank, logged in.
        app.control(phone, "Directログイン").click()
        app.heading(phone, "Directログイン")
        phone.get_by_label(app.label("ログインID")).fill(sp.LOGIN_ID)
        phone.get_by_label(app.label("ログインパスワード")).fill(sp.PASSWORD)
        app.button(phone, "ログイン").click()
        sp.expect_on_top(phone)
        assert Token.objects.get(user_id=user_id).state == Token.State.IN_USE

        # Next time the app opens locked; the fingerprint opens it.
        phone.goto(app.APP_URL)
        app.heading(phone, "ロック解除")
        app.button(phone, "指紋・顔認証").click()
        app.shown_code(phone)

        # 10 wrong PINs: the 3rd and later wait 15 s, doubling; the 10th wipes.
        phone.reload()
        for attempt in range(1, 11):
            app.unlock(phone, app.WRONG_PIN)
            alert = phone.locator("main")
            if attempt < 10:
                expect(alert).to_contain_text("暗証番号が正しくありません")
                if attempt == 9:
                    expect(alert).to_contain_text("あと1回")
                if attempt >= 3:
                    wait = 15 * 2 ** (attempt - 3)
                    expect(alert).to_contain_text("秒お待ちください")
                    if attempt == 3:
                        shot(phone, "app-pin-wait")
                    phone.clock.fast_forward(wait * 1000 + 1000)
        expect(phone.locator("main")).to_contain_text(app.WIPED)
        assert not app.vault_exists(phone)
        phone.reload()
        app.heading(phone, "初期設定")


def mail_body_to(address: str) -> str:
    return str(OutboxMail.objects.get(to_addr=address, purpose="otp_token_mail").body)
