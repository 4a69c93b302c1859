"""Leaflet part 2 in Chromium on an iPhone: SLI012, the mail, the app, Directログイン.

The phone page is the iPhone-13-like Safari page of tests/conftest.py (its User-Agent
is what makes the bank treat it as a smartphone). The token app is played by the real
protocol clients of netbank.token_app.client, over real HTTP to the live server; the
mail is read from the outbox row the bank queued for the phone's address.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from netbank import clock
from netbank.customers.models import Customer
from netbank.customers.services import customer_create
from netbank.notifications.models import OutboxMail
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import Token
from netbank.token_app.client import (
    ActivatedToken,
    ActivationClient,
    DirectLoginClient,
    totp_now,
)
from netbank.token_app.launch import page_write
from tests.browser.support import shot

pytestmark = pytest.mark.browser

LOGIN_ID = "hanako02"
PASSWORD = "Hanako2026"
NAME = "農協 花子"
QUESTION = "初めて見た映画のタイトルは何ですか？"
ANSWER = "となりのトトロ"
PHONE_MAIL = "hanako.phone@mobile.example.jp"
ACTIVATION_PASSWORD = "482913"

LOGIN_ID_LABEL = re.compile(r"ログインID$")
PASSWORD_LABEL = re.compile(r"ログインパスワード$")
APPLY_URL = re.compile(r"/sp/otp/apply/$")


@pytest.fixture
def customer(transactional_db: None) -> Customer:
    """A customer who has not set up OTP yet, with a 追加認証 question."""
    return customer_create(
        login_id=LOGIN_ID,
        name_kanji=NAME,
        name_kana="ノウキョウ ハナコ",
        email="hanako@example.jp",
        password=PASSWORD,
        transaction_password="Kakunin77",
        questions=[(QUESTION, ANSWER)],
    )


def log_in(page: Page) -> None:
    page.goto("/")
    page.get_by_label(LOGIN_ID_LABEL).fill(LOGIN_ID)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()


def expect_sli012(page: Page) -> None:
    expect(page).to_have_url(APPLY_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("ワンタイムパスワード利用申請")
    expect(page.locator("main")).to_contain_text("画面ID: SLI012")
    expect(page.locator("main")).to_contain_text(QUESTION)


def expect_on_top(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/top/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("トップ")
    expect(page.locator("main")).to_contain_text(f"{NAME} 様")


def fill_sli012(page: Page) -> None:
    page.get_by_label(re.compile(r"メールアドレス$")).fill(PHONE_MAIL)
    page.get_by_label(re.compile(r"メールアドレス（確認用）$")).fill(PHONE_MAIL)
    page.get_by_label(re.compile(r"利用開始パスワード$")).fill(ACTIVATION_PASSWORD)
    page.get_by_label(re.compile(r"利用開始パスワード（確認用）$")).fill(ACTIVATION_PASSWORD)
    page.get_by_label(re.compile(r"回答$")).fill(ANSWER)


def read_token_mail() -> tuple[str, str]:
    """サービスID and ユーザID from the mail the bank queued for the phone."""
    body = OutboxMail.objects.get(to_addr=PHONE_MAIL).body
    service = re.search(r"サービスID: (\S+)", body)
    user = re.search(r"ユーザID: ([0-9]{12})", body)
    assert service is not None, body
    assert user is not None, body
    return service[1], user[1]


def app_set_up(live_server: LiveServer, service_id: str, user_id: str) -> ActivatedToken:
    """The app's 初期設定 (サービスID, ユーザID, 利用開始パスワード → 送信), over HTTP."""
    client = ActivationClient(live_server.url, signing_public_key_text(), clock=clock.timestamp)
    return client.activate(service_id, user_id, ACTIVATION_PASSWORD)


def app_direct_login(live_server: LiveServer, app_token: ActivatedToken, launch_dir: Path) -> str:
    """The app's Directログイン: ログインID + ログインパスワード; the app adds the OTP and
    writes its local page that posts the ticket. The file:// URL the browser is given."""
    link = DirectLoginClient(live_server.url).direct_login_link(
        service_id=app_token.service_id,
        user_id=app_token.user_id,
        login_id=LOGIN_ID,
        password=PASSWORD,
        code=totp_now(app_token, now=clock.timestamp()),
    )
    assert link.post_url is not None
    assert link.ticket is not None
    page = page_write(
        link.post_url, link.ticket, environ={"NETBANK_TOKEN_LAUNCH_DIR": str(launch_dir)}
    )
    return page.as_uri()


def test_phone_login_sli012_mail_app_and_direct_login_open_the_bank(
    phone_page: Page, pc_page: Page, live_server: LiveServer, customer: Customer, tmp_path: Path
) -> None:
    page = phone_page
    log_in(page)

    # Leaflet part 2, Step 1: straight to ワンタイムパスワード利用申請.
    expect_sli012(page)
    for text in (
        "スマートフォンをご利用の際は、ワンタイムパスワードのご利用をお勧めします。",
        "【ワンタイムパスワード申請情報】",
        "【追加認証入力】",
    ):
        expect(page.locator("main")).to_contain_text(text)
    for button in ("確定する", "中止する", "戻る"):
        expect(page.get_by_role("button", name=button, exact=True)).to_be_visible()
    # Laid out for the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "sli012")

    fill_sli012(page)
    shot(page, "sli012-filled")
    page.get_by_role("button", name="確定する", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "ワンタイムパスワード利用申請（完了）"
    )
    expect(page.locator("main")).to_contain_text(PHONE_MAIL)
    shot(page, "sli012-done")

    # Step 2: the mail, then the app's 初期設定.
    service_id, user_id = read_token_mail()
    app_token = app_set_up(live_server, service_id, user_id)
    assert Token.objects.get(user_id=user_id).state == Token.State.ACTIVATED

    # Step 3: Directログイン in the app opens the bank, logged in, in the browser.
    # The browser opens the app's local page, whose own script posts the ticket (its
    # CSP, the bank's cookies after a post from a file:// page: Chromium's rules apply).
    url = app_direct_login(live_server, app_token, tmp_path / "launch")
    page.goto(url)

    expect_on_top(page)
    assert "?" not in page.url  # the address bar shows a clean URL
    assert Token.objects.get(user_id=user_id).state == Token.State.IN_USE
    shot(page, "direct-login-top")

    # The ticket was single-use: another browser opening the page gets the explanation.
    pc_page.goto(url)
    expect(pc_page.get_by_role("heading", level=1)).to_have_text("Directログイン")
    expect(pc_page.locator("main")).to_contain_text("すでに使用されたか")
    expect(pc_page.locator("main")).not_to_contain_text(NAME)

    # From now on the phone's web login asks for the OTP after ID and password.
    page.locator("header").get_by_role("button", name="ログアウト", exact=True).click()
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("ワンタイムパスワード認証")


def test_cancel_returns_to_top_and_sli012_comes_back_next_time(
    phone_page: Page, customer: Customer
) -> None:
    page = phone_page
    log_in(page)
    expect_sli012(page)

    page.get_by_role("button", name="中止する", exact=True).click()

    expect_on_top(page)
    page.locator("header").get_by_role("button", name="ログアウト", exact=True).click()
    log_in(page)
    expect_sli012(page)


def expect_otp_menu(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/procedures/otp/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("ワンタイムパスワード申請内容選択")
    expect(page.locator("main")).to_contain_text("ワンタイムパスワードのご利用が必須です")


def carry_session(source: Page, target: Page) -> None:
    """The same session in another browser: the device claims to be something else."""
    target.context.clear_cookies()
    target.context.add_cookies(source.context.cookies())  # type: ignore[arg-type]


def test_mandatory_otp_holds_pc_and_phone_to_the_otp_application_and_cancel_logs_out(
    phone_page: Page, pc_page: Page, customer: Customer, settings: Settings
) -> None:
    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "mandatory": True}
    bank_pages = ("/top/", "/banking/furikomi/", "/banking/balance/", "/procedures/")

    # A desktop login: the OTP application only, on the PC and in the phone's browser.
    log_in(pc_page)
    expect_otp_menu(pc_page)
    shot(pc_page, "otp-mandatory-menu")
    for url in bank_pages:
        pc_page.goto(url)
        expect_otp_menu(pc_page)
    pc_page.get_by_role("link", name="トークン発行", exact=True).click()
    expect(pc_page.get_by_role("heading", level=1)).to_contain_text("トークン発行")
    carry_session(pc_page, phone_page)
    for url in bank_pages:
        phone_page.goto(url)
        expect_sli012(phone_page)

    # A phone login: SLI012 only, on the phone and as a desktop.
    page = phone_page
    page.context.clear_cookies()
    log_in(page)
    expect_sli012(page)
    carry_session(page, pc_page)
    for url in bank_pages:
        pc_page.goto(url)
        expect_sli012(pc_page)
    # Nothing else is open while the application is shown.
    expect(page.locator("header").get_by_role("button", name="ログアウト")).to_have_count(0)

    page.get_by_role("button", name="中止する", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    expect(page.locator("main")).to_contain_text("ログアウトしました。")
    page.goto("/top/")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    shot(page, "sli012-mandatory-cancelled")


def test_phone_switched_to_the_pc_layout_still_gets_sli012(
    phone_page: Page, customer: Customer
) -> None:
    page = phone_page
    page.goto("/")
    assert page.evaluate("document.documentElement.clientWidth") == 390

    page.locator("footer").get_by_role("button", name="PC版で表示", exact=True).click()

    # The layout changed: the page is laid out at desktop width and says so.
    expect(page.locator("body")).to_have_class(re.compile(r"\bdisplay-pc\b"))
    assert page.evaluate("document.documentElement.clientWidth") > 640
    log_in(page)

    # Enforcement did not: a phone without OTP still gets SLI012.
    expect_sli012(page)
    expect(page.locator("body")).to_have_class(re.compile(r"\bdisplay-pc\b"))
    shot(page, "sli012-pc-layout")

    page.locator("footer").get_by_role("button", name="スマートフォン版で表示", exact=True).click()
    expect_sli012(page)
    expect(page.locator("body")).to_have_class(re.compile(r"\bdisplay-sp\b"))


def test_sli012_bad_input_shows_messages_by_the_fields_and_applies_nothing(
    phone_page: Page, customer: Customer
) -> None:
    page = phone_page
    log_in(page)
    expect_sli012(page)

    # 確定する with nothing filled in: the bank's own messages, not the browser's.
    page.get_by_role("button", name="確定する", exact=True).click()
    expect_sli012(page)
    expect(page.locator("#id_email_error")).to_contain_text("メールアドレスを入力してください")
    expect(page.locator("#id_answer_error")).to_contain_text("回答")

    # Full-width digits where half-width are required, and a confirmation that differs.
    fill_sli012(page)
    page.get_by_label(re.compile(r"利用開始パスワード$")).fill("４８２９１３")
    page.get_by_label(re.compile(r"メールアドレス（確認用）$")).fill("other@mobile.example.jp")
    page.get_by_role("button", name="確定する", exact=True).click()
    expect_sli012(page)
    expect(page.locator("#id_activation_password_error")).to_contain_text("半角数字")
    expect(page.locator("#id_email_confirm_error")).to_contain_text("一致しません")
    shot(page, "sli012-input-errors")
    assert not Token.objects.exists()
    assert not OutboxMail.objects.filter(to_addr=PHONE_MAIL).exists()
