"""Every screen of the phone app on the iPhone viewport, for docs/token-app.md and the README.

Playwright's "iPhone 13" descriptor at 2x pixels instead of 3x (sharp on a README, under
half the bytes), a token issued by the real service and set up through the app's own
screens on a live server. Every run keeps the pictures in test-artifacts/screenshots/;
with NETBANK_UPDATE_DOCS_IMG=1 they replace docs/img/app-*.png as 8-bit palette PNGs
(tests/browser/png_palette.py):

    NETBANK_UPDATE_DOCS_IMG=1 ./bin/test tests/browser/test_webapp_screenshots.py

Without it the test checks that the committed pictures exist, are PNGs of this width and
stay under 200 KB.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from netbank.customers.services import customer_create
from netbank.otp.tokens.services import token_issue
from tests.browser import app_support as app
from tests.browser import support
from tests.browser.png_palette import shrink
from tests.browser.test_readme_screenshots import MAX_BYTES, has_japanese_font, png_size

pytestmark = pytest.mark.browser

SCALE = 2
ACTIVATION_PASSWORD = "482913"
# docs/banking.md §4's worked example: 振込 50,000円 from 001-1234567 to 0005-123 普通
# 7654321, now. The app reads it without the bank (the code is the app's own key's).
QUESTION = "1000 5123 1765 4321 0000 0005 0000 0011 2345 6700 0000 0012 3456 78"

SHOTS = (
    "app-download.png",
    "app-setup.png",
    "app-setup-en.png",
    "app-applock.png",
    "app-pin.png",
    "app-code.png",
    "app-unlock.png",
    "app-unlock-wait.png",
    "app-direct-login.png",
    "app-signing.png",
    "app-signing-code.png",
    "app-settings.png",
    "app-clock-warning.png",
)


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    assert name in SHOTS
    page.evaluate("document.fonts.ready.then(() => true)")
    page.evaluate("window.scrollTo(0, 0)")
    support.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(support.ARTIFACTS / name), full_page=full_page)


@pytest.fixture
def issued(transactional_db: None) -> tuple[str, str]:
    customer = customer_create(
        login_id="appshots01",
        name_kanji="山田 太郎",
        name_kana="ヤマダ タロウ",
        email="taro@example.jp",
        password="Shots-pass-2026",
        transaction_password="Kakunin-77",
        questions=[("中学校の時の部活動は何ですか？", "サッカー部")],
    )
    token = token_issue(
        customer=customer,
        email="taro.phone@mobile.example.jp",
        activation_password=ACTIVATION_PASSWORD,
        ip="127.0.0.1",
        smartphone=True,
    )
    return str(settings.NETBANK_OTP["service_id"]), token.user_id


def test_screenshots_of_every_app_screen(
    browser: Browser, live_server: LiveServer, issued: tuple[str, str]
) -> None:
    updating = os.environ.get("NETBANK_UPDATE_DOCS_IMG") == "1"
    if not has_japanese_font():
        message = "no Noto Sans CJK JP: install fonts-noto-cjk (Japanese would render as boxes)"
        if updating:
            pytest.fail(message)
        pytest.skip(message)
    service_id, user_id = issued
    overrides = {"device_scale_factor": SCALE}
    with app.phone_app(browser, live_server.url, "iPhone 13", overrides=overrides) as page:
        page.context.clock.install()  # real time; the PIN wait is skipped below
        page.goto("/app/")
        app.heading(page, "ワンタイムパスワードアプリのダウンロード")
        # The page runs on (the PC's instructions, the helpdesk): its first screen holds
        # the button and the home-screen steps.
        _shot(page, "app-download.png", full_page=False)
        app.control(page, "アプリを開く").click()

        app.heading(page, "初期設定")
        expect(page.locator("main")).to_contain_text("署名鍵の指紋")
        assert app.header_lines(page) == 1, "the bank's name wraps in the app's header"
        page.get_by_label(app.label("サービスID")).fill(service_id)
        page.get_by_label(app.label("ユーザID")).fill(user_id)
        _shot(page, "app-setup.png")
        app.button(page, "English").click()
        app.heading(page, "Initial setup")
        _shot(page, "app-setup-en.png")
        app.button(page, "日本語").click()
        app.set_up(page, service_id, user_id, ACTIVATION_PASSWORD)

        app.heading(page, "アプリロックについて")
        _shot(page, "app-applock.png")
        app.button(page, "次へ").click()
        app.heading(page, "暗証番号の設定")
        page.get_by_label(app.label("暗証番号（4～8桁の数字）")).fill(app.PIN)
        page.get_by_label(app.label("暗証番号（確認用）")).fill(app.PIN)
        _shot(page, "app-pin.png")
        app.button(page, "設定する").click()
        app.shown_code(page)
        expect(page.locator("#otp-ring")).to_have_attribute("aria-label", re.compile(r"\d"))
        _shot(page, "app-code.png")

        page.reload()
        app.heading(page, "ロック解除")
        _shot(page, "app-unlock.png")
        for _ in range(3):
            app.unlock(page, app.WRONG_PIN)
            expect(page.locator("main")).to_contain_text("暗証番号が正しくありません")
        expect(page.locator("main")).to_contain_text("秒お待ちください")
        _shot(page, "app-unlock-wait.png")
        page.clock.fast_forward(16_000)
        app.unlock(page)
        app.shown_code(page)

        app.control(page, "Directログイン").click()
        app.heading(page, "Directログイン")
        page.get_by_label(app.label("ログインID")).fill("appshots01")
        _shot(page, "app-direct-login.png")
        app.button(page, "戻る").click()
        app.shown_code(page)

        app.control(page, "取引認証").click()
        app.heading(page, "取引認証")
        page.get_by_label(app.label("取引認証の質問")).fill(QUESTION)
        app.button(page, "内容を確認").click()
        expect(page.locator("main dl")).to_contain_text("50,000円")
        _shot(page, "app-signing.png")
        app.button(page, "取引認証番号を表示").click()
        expect(page.locator("#signing-code")).to_have_text(re.compile(r"\d{4}"))
        _shot(page, "app-signing-code.png")
        app.button(page, "ワンタイムパスワード").click()
        app.shown_code(page)

        app.control(page, "設定").click()
        app.heading(page, "設定")
        expect(page.locator("main")).to_contain_text("0120-058-098")
        _shot(page, "app-settings.png")

        # The phone's clock a minute fast: the app reads the bank's Date header and warns.
        page.clock.set_system_time(datetime.now(UTC) + timedelta(seconds=60))
        page.goto(app.APP_URL)
        app.unlock(page)
        app.shown_code(page)
        expect(page.locator("#clock-warning")).to_be_visible()
        _shot(page, "app-clock-warning.png")

    for name in SHOTS:
        target = support.DOCS_IMG / name
        if updating:
            shrink(support.ARTIFACTS / name, target)
        assert target.exists(), f"{target} missing: run with NETBANK_UPDATE_DOCS_IMG=1"
        assert target.stat().st_size < MAX_BYTES, f"{target} is over {MAX_BYTES} bytes"
        width, _height = png_size(target)
        assert width == 390 * SCALE
