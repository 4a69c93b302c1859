"""The leaflet's login, as a customer does it in Chromium on a PC and on an iPhone.

Most tests run twice through the ``page`` fixture (PC 1366x900 and iPhone 13-like
390x844), against the live server in this process, with Japanese as the browser's
language. Any JavaScript error or CSP violation on a page fails the test.

The customer uses OTP (a token in use, its codes computed here with pyotp, an
independent implementation), which is where every customer ends up and the same on
both devices: ログインID + ログインパスワード, then ワンタイムパスワード認証, then トップ.
A customer without OTP goes straight to トップ on a PC; on a phone the leaflet sends
them to ワンタイムパスワード利用申請 (SLI012) first, which the smartphone-journey tests cover.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime

import pyotp
import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Locator, Page, expect
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.customers.models import Customer
from netbank.customers.services import customer_create
from tests.browser.support import shot
from tests.otp.factories import in_use_token

pytestmark = pytest.mark.browser

LOGIN_ID = "hanako01"
PASSWORD = "Hanako2026"
NAME = "農協 花子"
WRONG_PASSWORD_MESSAGE = "ログインIDまたはログインパスワードが正しくありません。"


SEED = bytes(range(41, 61))  # the token app's 20-byte HMAC-SHA1 seed


@pytest.fixture
def customer(transactional_db: None) -> Customer:
    """A customer who has not set up OTP yet."""
    return customer_create(
        login_id=LOGIN_ID,
        name_kanji=NAME,
        name_kana="ノウキョウ ハナコ",
        email="hanako@example.jp",
        password=PASSWORD,
        transaction_password="Kakunin77",
    )


@pytest.fixture
def otp_customer(customer: Customer) -> Customer:
    """The same customer with a token in use: every login asks for the OTP."""
    in_use_token(customer, seed=SEED)
    return customer


def current_otp() -> str:
    """The code the customer's app shows now (by the server's clock, pinned or not)."""
    opts = django_settings.NETBANK_OTP
    assert str(opts["algorithm"]).upper() == "SHA1"
    totp = pyotp.TOTP(
        base64.b32encode(SEED).decode("ascii"),
        digits=int(opts["digits"]),
        interval=int(opts["period"]),
    )
    return totp.at(clock.now())


# Labels may carry the 【必須】 mark before the text; the label still names the field.
LOGIN_ID_LABEL = re.compile(r"ログインID$")
PASSWORD_LABEL = re.compile(r"ログインパスワード$")


OTP_LABEL = re.compile(r"ワンタイムパスワード$")


def log_in(page: Page, login_id: str = LOGIN_ID, password: str = PASSWORD) -> None:
    """The first login step: ログインID and ログインパスワード."""
    page.goto("/")
    page.get_by_label(LOGIN_ID_LABEL).fill(login_id)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.get_by_role("button", name="ログイン", exact=True).click()


def enter_otp(page: Page, code: str | None = None) -> None:
    """The second step: ワンタイムパスワード認証."""
    expect(page.get_by_role("heading", level=1)).to_have_text("ワンタイムパスワード認証")
    page.get_by_label(OTP_LABEL).fill(code or current_otp())
    page.get_by_role("button", name="認証する", exact=True).click()


def log_in_with_otp(page: Page) -> None:
    log_in(page)
    enter_otp(page)
    expect_on_top(page)


def header_logout(page: Page) -> Locator:
    return page.locator("header").get_by_role("button", name="ログアウト", exact=True)


def expect_on_top(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/top/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("トップ")
    expect(page.locator("main")).to_contain_text(f"{NAME} 様")


def expect_on_login(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    expect(page.get_by_label(LOGIN_ID_LABEL)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(NAME)


def test_customer_logs_in_with_id_password_and_otp_and_sees_top(
    page: Page, otp_customer: Customer
) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect_on_login(page)
    shot(page, "login")

    log_in(page)

    # Not logged in yet: the password alone opens nothing.
    expect(page.get_by_role("heading", level=1)).to_have_text("ワンタイムパスワード認証")
    expect(page.locator("main")).not_to_contain_text(NAME)
    expect(header_logout(page)).to_have_count(0)
    shot(page, "login-otp")

    enter_otp(page)

    expect_on_top(page)
    for item in ("残高照会", "振込", "振替", "各種お申込・手続き"):
        expect(page.locator("main .menu")).to_contain_text(item)
    expect(header_logout(page)).to_be_visible()
    shot(page, "top")


def test_customer_without_otp_logs_in_on_pc_with_id_and_password(
    pc_page: Page, customer: Customer
) -> None:
    log_in(pc_page)

    expect_on_top(pc_page)


def test_wrong_password_shows_error_by_the_form_and_stays_on_login(
    page: Page, otp_customer: Customer
) -> None:
    log_in(page, password="Hanako2025")

    expect_on_login(page)
    error = page.locator("main [role=alert]")
    expect(error).to_contain_text(WRONG_PASSWORD_MESSAGE)
    expect(error).to_be_in_viewport()
    # The message sits with the form it is about, not somewhere else on the page.
    assert page.locator("main .form-error + form").count() == 1
    # The password is never echoed back into the form.
    expect(page.get_by_label(PASSWORD_LABEL)).to_have_value("")
    shot(page, "login-error")

    # Nothing was granted: the menu stays out of reach.
    page.goto("/top/")
    expect_on_login(page)


def test_unknown_login_id_gets_the_same_message_as_a_wrong_password(
    page: Page, otp_customer: Customer
) -> None:
    log_in(page, login_id="nosuchid9")

    expect_on_login(page)
    expect(page.locator("main [role=alert]")).to_contain_text(WRONG_PASSWORD_MESSAGE)


def test_footer_shows_the_banks_helpdesk_number(
    page: Page, otp_customer: Customer, settings: Settings
) -> None:
    # A distinctive number proves the footer shows the bank setting, not fixed text.
    settings.NETBANK_HELPDESK = {
        **settings.NETBANK_HELPDESK,
        "phone": "0120-987-654",
        "general_option": "1",
        "emergency_option": "3",
    }
    page.goto("/")
    footer = page.locator("footer")
    expect(footer.get_by_role("link", name="0120-987-654")).to_have_count(2)
    expect(footer.get_by_role("link", name="0120-987-654").first).to_have_attribute(
        "href", "tel:0120-987-654"
    )
    expect(footer).to_contain_text("1番をプッシュしてください")
    expect(footer).to_contain_text("3番をプッシュしてください")
    expect(footer).to_contain_text("24時間 365日")

    # The same footer on every page, the logged-in ones included.
    log_in_with_otp(page)
    expect(page.locator("footer").get_by_role("link", name="0120-987-654")).to_have_count(2)


def test_language_switches_to_english_and_back(page: Page, otp_customer: Customer) -> None:
    log_in_with_otp(page)

    page.get_by_role("button", name="English", exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".brand")).to_have_text("NetBank")
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    expect(page.locator("header").get_by_role("button", name="Log out", exact=True)).to_be_visible()
    # Switching language keeps the customer where they were, still logged in.
    expect(page).to_have_url(re.compile(r"/top/$"))
    expect(page.locator("main")).to_contain_text(NAME)
    shot(page, "top-en")

    page.get_by_role("button", name="日本語", exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect_on_top(page)
    expect(page.get_by_role("button", name="English", exact=True)).to_be_visible()


def test_logout_ends_the_session(page: Page, otp_customer: Customer) -> None:
    log_in_with_otp(page)

    header_logout(page).click()

    expect_on_login(page)
    expect(page.locator("main [role=status]")).to_have_text("ログアウトしました。")
    # Neither the menu URL nor the browser's Back button brings the account back.
    page.go_back()
    expect_on_login(page)
    page.goto("/top/")
    expect_on_login(page)


def _short_idle(settings: Settings) -> None:
    # 30 s idle with the warning from 20 s left: the live server reads these settings
    # in this process, and the pinned clock moves instead of the test waiting.
    settings.NETBANK_SESSION_IDLE_SECONDS = 30
    settings.NETBANK_SESSION_WARNING_SECONDS = 20


def _log_in_and_start_the_idle_check(page: Page) -> None:
    log_in_with_otp(page)
    # The top page is on screen before the script at the end of its body has run and set
    # its first check's timer; the installed clock must not move until it has.
    page.wait_for_load_state("load")


def test_idle_warning_appears_and_extend_keeps_the_session(
    page: Page, otp_customer: Customer, settings: Settings, frozen_clock: datetime
) -> None:
    _short_idle(settings)
    page.clock.install()  # the page's timers run when the test says, not in real time
    _log_in_and_start_the_idle_check(page)
    warning = page.locator("#session-warning")
    expect(warning).to_be_hidden()

    clock.advance(15)  # 15 s idle: 15 s left, inside the 20 s warning period
    page.clock.run_for(5_000)  # the page's first status check

    expect(warning).to_be_visible()
    expect(warning).to_contain_text("まもなく自動的にログアウトします")
    expect(page.locator("#session-remaining")).to_have_text("(15)")
    shot(page, "idle-warning")

    page.get_by_role("button", name="延長する", exact=True).click()

    expect_on_top(page)
    expect(warning).to_be_hidden()
    # 35 s after login but only 20 s after extending: still logged in.
    clock.advance(20)
    page.reload()
    expect_on_top(page)


def test_idle_warning_check_does_not_keep_the_session_alive(
    page: Page, otp_customer: Customer, settings: Settings, frozen_clock: datetime
) -> None:
    _short_idle(settings)
    page.clock.install()
    _log_in_and_start_the_idle_check(page)

    clock.advance(15)
    page.clock.run_for(5_000)
    expect(page.locator("#session-warning")).to_be_visible()

    # Polls keep coming while nobody touches the page; they must not count as activity.
    clock.advance(10)
    page.clock.run_for(1_000)
    expect(page.locator("#session-remaining")).to_have_text("(5)")
    clock.advance(6)  # 31 s since the customer last did anything
    page.clock.run_for(1_000)

    # The page notices the session has ended and goes to the login screen, which says why.
    expect_on_login(page)
    expect(page).to_have_url(re.compile(r"/\?ended=idle$"))
    expect(page.locator("main [role=status]")).to_contain_text("操作がなかったため")
    page.goto("/top/")
    expect_on_login(page)
