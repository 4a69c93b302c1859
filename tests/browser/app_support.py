"""Driving the phone app (/app/token/) in Chromium, by its screens' accessible names.

The names are the screens' contract (docs/token-app.md, "The phone app", "The
screens"): headings, labels and buttons as the customer reads them, never CSS classes.
Used by the journeys (test_webapp_journey.py) and the screenshots of every screen
(test_webapp_screenshots.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser import support

APP_URL = "/app/token/"
PIN = "25801470"
WRONG_PIN = "13572468"

# The Python app's words, which the phone app shares (token_app/messages.py).
UNTRUSTED = "銀行からの応答を確認できませんでした"
WIPED = "暗証番号を10回間違えたため"


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def label(text: str) -> re.Pattern[str]:
    """A field's label starts with the spec's words (a hint may follow)."""
    return re.compile("^" + re.escape(text))


def button(page: Page, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def control(page: Page, name: str) -> Any:
    """A button or a link with this name (the spec says 'buttons/links')."""
    return page.get_by_role("button", name=name, exact=True).or_(
        page.get_by_role("link", name=name, exact=True)
    )


@contextmanager
def phone_app(
    browser: Browser,
    base_url: str,
    device_name: str,
    *,
    overrides: dict[str, Any] | None = None,
) -> Iterator[Page]:
    """A fresh browser profile on a phone (its own IndexedDB and service worker).

    Problems the page reports (JavaScript errors, CSP violations, console errors) fail
    the test at the end, as with the other browser fixtures.
    """
    context = browser.new_context(
        base_url=base_url,
        locale=support.LOCALE,
        timezone_id=support.TIMEZONE,
        color_scheme="light",
        **{**support.pool.device(device_name), **(overrides or {})},
    )
    context.set_default_timeout(15_000)
    label_ = device_name.lower().replace(" ", "-")
    page = support.new_watched_page(context, label_)
    failed = True
    try:
        yield page
        failed = False
    finally:
        if failed and not page.is_closed():
            support.shot(page, "FAILED-app")
        problems = support.watch_of(page).problems()
        context.close()
        support.forget_page(page)
    assert problems == [], "the app reported problems in the browser:\n" + "\n".join(problems)


def forget_offline_errors(page: Page) -> None:
    """Offline, a fetch that fails is expected: the browser logs it as a console error."""
    watch = support.watch_of(page)
    watch.console_errors[:] = [
        e for e in watch.console_errors if "ERR_INTERNET_DISCONNECTED" not in e
    ]


def sw_ready(page: Page) -> None:
    """Wait until the service worker controls the page (the shell is cached)."""
    controlled = page.evaluate(
        """async () => {
            const late = new Promise((ok) => setTimeout(() => ok(false), 15000));
            const ready = (async () => {
                await navigator.serviceWorker.ready;
                if (!navigator.serviceWorker.controller) {
                    await new Promise((ok) => navigator.serviceWorker.addEventListener(
                        "controllerchange", ok, {once: true}));
                }
                return true;
            })();
            return Promise.race([ready, late]);
        }"""
    )
    assert controlled, "no service worker took control of the app within 15 s"


def open_from_download_page(page: Page, url: str) -> None:
    """The mail's URL on the phone: the download page, then 「アプリを開く」."""
    page.goto(url)
    heading(page, "ワンタイムパスワードアプリのダウンロード")
    control(page, "アプリを開く").click()
    expect(page).to_have_url(re.compile(r"/app/token/"))


def set_up(page: Page, service_id: str, user_id: str, password: str) -> None:
    heading(page, "初期設定")
    page.get_by_label(label("サービスID")).fill(service_id)
    page.get_by_label(label("ユーザID")).fill(user_id)
    page.get_by_label(label("利用開始パスワード")).fill(password)
    button(page, "送信").click()


def app_lock_and_pin(page: Page, pin: str = PIN, *, biometric: bool = False) -> None:
    heading(page, "アプリロックについて")
    button(page, "次へ").click()
    heading(page, "暗証番号の設定")
    page.get_by_label(label("暗証番号（4～8桁の数字）")).fill(pin)
    page.get_by_label(label("暗証番号（確認用）")).fill(pin)
    if biometric:
        page.get_by_label(label("指紋・顔認証でロック解除")).check()
    button(page, "設定する").click()


def unlock(page: Page, pin: str = PIN) -> None:
    heading(page, "ロック解除")
    page.get_by_label("暗証番号", exact=True).fill(pin)
    button(page, "ロック解除").click()


def shown_code(page: Page, digits: int = 6) -> str:
    """The code on the screen (digits only: the app may group them for reading)."""
    heading(page, "ワンタイムパスワード")
    code = page.locator("#otp-code")
    expect(code).to_have_text(re.compile(r"^\s*(\d\s?){" + str(digits) + r"}\s*$"))
    return re.sub(r"\D", "", code.inner_text())


def header_lines(page: Page) -> int:
    """How many lines the bank's name in the app's header takes (it must fit on one,
    beside the language button, on a 390 px wide phone)."""
    brand = page.locator("header").get_by_text("ネットバンク", exact=True)
    return int(
        brand.evaluate(
            """(el) => {
                const range = document.createRange();
                range.selectNodeContents(el);
                const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                return tops.size;
            }"""
        )
    )


def vault_exists(page: Page) -> bool:
    """Asks the app's own vault module (IndexedDB `netbank-app`)."""
    return bool(
        page.evaluate("async () => (await import('/static/otp/app/vault.js')).vaultExists()")
    )
