"""The phone app's shell in Chromium on the phone page: it loads under the bank's CSP, its
service worker takes over /app/, it opens offline, an update keeps the vault, the 初期設定
form refuses bad input before sending anything, and the language switch.

The page fixtures fail a test on any CSP violation, JavaScript error or console error.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from netbank.oath.bankkeys import key_fingerprint
from netbank.oath.totp import totp
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.webapp import views

SEED = bytes(range(1, 21))
PIN = "2580"

CREATE_VAULT = """async ([seedHex, pin]) => {
  const v = await import("/static/otp/app/vault.js");
  const bytes = (hex) => new Uint8Array(hex.match(/../g).map((x) => parseInt(x, 16)));
  await v.createVault({
    seed: bytes(seedHex), signingKey: bytes("ab".repeat(32)), algorithm: "SHA1", digits: 6,
    period: 30, serviceId: "100001", userId: "123456789012", bankUrl: location.origin,
    serverTimeOffset: 0,
  }, pin);
  return v.vaultExists();
}"""


def open_app(page: Page) -> None:
    page.goto("/app/token/")
    expect(page.locator("h1")).to_be_visible()


def wait_controlled(page: Page) -> None:
    """Until the worker is active and controls this page (clients.claim() on activate)."""
    # (Polled from here: wait_for_function evaluates a string, which the bank's CSP forbids.)
    controlled = wait_for(
        lambda: page.evaluate("() => navigator.serviceWorker.controller !== null")
    )
    assert controlled, "the service worker does not control the page"


def cache_names(page: Page) -> list[str]:
    names: list[str] = page.evaluate("caches.keys()")
    return names


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.1)


def test_the_shell_loads_and_offers_the_initial_setup_with_the_banks_fingerprint(
    phone_page: Page,
) -> None:
    open_app(phone_page)
    expect(phone_page.get_by_role("heading", name="初期設定", exact=True)).to_be_visible()
    for label in ("サービスID", "ユーザID", "利用開始パスワード"):
        expect(phone_page.get_by_label(label, exact=True)).to_be_visible()
    expect(phone_page.get_by_role("button", name="送信", exact=True)).to_be_visible()
    expect(phone_page.locator("#key-fingerprint")).to_have_text(
        key_fingerprint(signing_public_key_text())
    )
    expect(phone_page.get_by_role("button", name="English", exact=True)).to_be_visible()
    # Touch targets of at least 48 px.
    box = phone_page.get_by_role("button", name="送信", exact=True).bounding_box()
    assert box is not None
    assert box["height"] >= 48


def test_the_worker_registers_caches_the_app_and_controls_it(phone_page: Page) -> None:
    open_app(phone_page)
    wait_controlled(phone_page)
    scope = phone_page.evaluate(
        "navigator.serviceWorker.getRegistration('/app/').then((r) => r.scope)"
    )
    assert scope.endswith("/app/")
    assert cache_names(phone_page) == [f"netbank-app-{views.app_version()}"]
    cached = phone_page.evaluate(
        """async () => {
          const cache = await caches.open((await caches.keys())[0]);
          return (await cache.keys()).map((r) => new URL(r.url).pathname);
        }"""
    )
    assert {"/app/token/", "/static/otp/app/main.js", "/app/install.json"} <= set(cached)
    # Reloaded, the page is the worker's from the start.
    phone_page.reload()
    wait_controlled(phone_page)
    expect(phone_page.get_by_role("heading", name="初期設定", exact=True)).to_be_visible()


def test_offline_the_app_still_opens_on_the_setup_screen(phone_page: Page) -> None:
    open_app(phone_page)
    wait_controlled(phone_page)
    phone_page.context.set_offline(True)
    try:
        phone_page.reload()
        expect(phone_page.get_by_role("heading", name="初期設定", exact=True)).to_be_visible()
        # The fingerprint comes from the worker's copy of install.json.
        expect(phone_page.locator("#key-fingerprint")).to_have_text(
            key_fingerprint(signing_public_key_text())
        )
    finally:
        phone_page.context.set_offline(False)


def unlock_and_read_code(page: Page, pin: str = PIN) -> str:
    expect(page.get_by_role("heading", name="ロック解除", exact=True)).to_be_visible()
    page.get_by_label("暗証番号", exact=True).fill(pin)
    page.get_by_role("button", name="ロック解除", exact=True).click()
    expect(page.get_by_role("heading", name="ワンタイムパスワード", exact=True)).to_be_visible(
        timeout=20_000
    )
    expect(page.locator("#otp-code")).to_have_text(re.compile(r"^\d{6}$"))
    return page.locator("#otp-code").inner_text()


def assert_code_of_seed(code: str) -> None:
    now = time.time()
    assert code in {totp(SEED, now + d, digits=6, period=30) for d in (-30, 0, 30)}


def test_offline_with_a_token_the_app_opens_locked_and_shows_its_code(phone_page: Page) -> None:
    open_app(phone_page)
    wait_controlled(phone_page)
    assert phone_page.evaluate(CREATE_VAULT, [SEED.hex(), PIN]) is True
    phone_page.context.set_offline(True)
    try:
        phone_page.reload()
        code = unlock_and_read_code(phone_page)
        assert_code_of_seed(code)
        ring = phone_page.locator("#otp-ring")
        expect(ring).to_have_attribute("aria-label", re.compile(r"^あと\d{1,2}秒$"))
        for name in ("コピー", "Directログイン", "取引認証", "設定"):
            expect(phone_page.get_by_role("button", name=name, exact=True)).to_be_visible()
    finally:
        phone_page.context.set_offline(False)


def test_a_new_version_of_the_app_takes_over_and_keeps_the_vault(
    phone_page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_app(phone_page)
    wait_controlled(phone_page)
    old = f"netbank-app-{views.app_version()}"
    assert cache_names(phone_page) == [old]
    assert phone_page.evaluate(CREATE_VAULT, [SEED.hex(), PIN]) is True
    # A changed file of the app is a new version (tests/webapp/test_webapp_views.py).
    monkeypatch.setattr(views, "app_version", lambda: "0123456789abcdef")
    phone_page.evaluate("navigator.serviceWorker.getRegistration('/app/').then((r) => r.update())")
    assert wait_for(lambda: cache_names(phone_page) == ["netbank-app-0123456789abcdef"]), (
        cache_names(phone_page)
    )
    phone_page.reload()
    wait_controlled(phone_page)
    url = phone_page.evaluate("navigator.serviceWorker.controller.scriptURL")
    assert url.endswith("/app/sw.js")
    assert phone_page.evaluate("import('/static/otp/app/vault.js').then((v) => v.vaultExists())")
    assert_code_of_seed(unlock_and_read_code(phone_page))


def test_the_setup_form_refuses_bad_input_and_sends_nothing(phone_page: Page) -> None:
    sent: list[str] = []

    def record(request: Request) -> None:
        if "/api/" in request.url:
            sent.append(request.url)

    phone_page.on("request", record)
    open_app(phone_page)
    send = phone_page.get_by_role("button", name="送信", exact=True)
    service = phone_page.get_by_label("サービスID", exact=True)
    user = phone_page.get_by_label("ユーザID", exact=True)
    password = phone_page.get_by_label("利用開始パスワード", exact=True)

    send.click()
    for field, error in (
        (service, "サービスIDを入力してください。"),
        (user, "ユーザIDを入力してください。"),
        (password, "利用開始パスワードを入力してください。"),
    ):
        expect(field).to_have_attribute("aria-invalid", "true")
        described = field.get_attribute("aria-describedby")
        assert described
        line = phone_page.locator(f"#{described}")
        expect(line).to_have_text(error)
        expect(line).to_have_attribute("role", "alert")
    expect(service).to_be_focused()

    # Full-width letters are not the mail's サービスID.
    service.fill("１００００１")
    user.fill("12345678901")
    password.fill("12a4")
    send.click()
    expect(phone_page.locator("#service-id-error")).to_have_text(
        "サービスIDは、メールに記載されている半角英数字（32文字以内）を入力してください。"
    )
    expect(phone_page.locator("#user-id-error")).to_have_text(
        "ユーザIDは、メールに記載されている12桁の数字を入力してください。"
    )
    expect(phone_page.locator("#activation-password-error")).to_have_text(
        "利用開始パスワードは、トークン発行の申請で登録した4～8桁の数字です。"
    )

    # Well-formed, but another bank's: refused here, before anything goes out.
    service.fill("999999")
    user.fill("123456789012")
    password.fill("１２３４")
    send.click()
    expect(phone_page.locator("#service-id-error")).to_have_text(
        "このアプリはネットバンク用です（サービスID 100001）。メールに記載のサービスIDをご確認ください。"
    )
    expect(phone_page.locator("#user-id-error")).to_have_text("")
    expect(user).not_to_have_attribute("aria-invalid", "true")
    expect(phone_page.locator("#activation-password-error")).to_have_text("")
    assert sent == []


def test_the_language_switch_changes_every_word_and_is_remembered(phone_page: Page) -> None:
    open_app(phone_page)
    phone_page.get_by_label("サービスID", exact=True).fill("100001")
    phone_page.get_by_role("button", name="English", exact=True).click()
    expect(phone_page.get_by_role("heading", name="Initial setup", exact=True)).to_be_visible()
    expect(phone_page.locator("html")).to_have_attribute("lang", "en")
    expect(phone_page.get_by_label("Service ID", exact=True)).to_have_value("100001")
    expect(phone_page.get_by_role("button", name="Send", exact=True)).to_be_visible()
    phone_page.get_by_role("button", name="Send", exact=True).click()
    expect(phone_page.locator("#user-id-error")).to_have_text("Enter the User ID.")
    phone_page.reload()
    expect(phone_page.get_by_role("heading", name="Initial setup", exact=True)).to_be_visible()
    phone_page.get_by_role("button", name="日本語", exact=True).click()
    expect(phone_page.get_by_role("heading", name="初期設定", exact=True)).to_be_visible()
    expect(phone_page.locator("html")).to_have_attribute("lang", "ja")


def test_a_phone_clock_a_minute_fast_is_warned_and_the_code_is_on_the_banks_time(
    phone_page: Page,
) -> None:
    # The phone's clock runs 60 s ahead (DevTools scripts are outside the page's CSP).
    phone_page.add_init_script(
        "{ const real = Date.now.bind(Date); Date.now = () => real() + 60000; }"
    )
    open_app(phone_page)
    assert phone_page.evaluate(CREATE_VAULT, [SEED.hex(), PIN]) is True
    phone_page.reload()
    code = unlock_and_read_code(phone_page)
    warning = phone_page.locator("#clock-warning")
    expect(warning).to_have_text(
        re.compile(r"^端末の時刻が銀行の時刻より(59|60|61)秒進んでいます。")
    )
    expect(warning).to_have_attribute("role", "alert")
    # The code is the bank's now, not the phone's.
    now = time.time()
    assert code in {totp(SEED, now + d, digits=6, period=30) for d in (-3, 0)}
    assert code not in {totp(SEED, now + d, digits=6, period=30) for d in (57, 60)}


def test_a_right_clock_gets_no_warning(phone_page: Page) -> None:
    open_app(phone_page)
    assert phone_page.evaluate(CREATE_VAULT, [SEED.hex(), PIN]) is True
    phone_page.reload()
    unlock_and_read_code(phone_page)
    expect(phone_page.locator("#clock-warning")).to_have_count(0)


def test_back_online_the_clock_is_measured_again_and_the_warning_appears(
    phone_page: Page,
) -> None:
    phone_page.add_init_script(
        "{ const real = Date.now.bind(Date); Date.now = () => real() + 60000; }"
    )
    open_app(phone_page)
    wait_controlled(phone_page)
    assert phone_page.evaluate(CREATE_VAULT, [SEED.hex(), PIN]) is True
    phone_page.context.set_offline(True)
    try:
        phone_page.reload()
        # Offline: the vault's offset (0 here) is all the app knows; no warning yet.
        unlock_and_read_code(phone_page)
        expect(phone_page.locator("#clock-warning")).to_have_count(0)
    finally:
        phone_page.context.set_offline(False)
    expect(phone_page.locator("#clock-warning")).to_have_text(
        re.compile(r"^端末の時刻が銀行の時刻より(59|60|61)秒進んでいます。")
    )
    # And the vault keeps the measured offset for the next time offline.
    offset = phone_page.evaluate(
        "import('/static/otp/app/vault.js').then((v) => v.status()).then((s) => s.serverTimeOffset)"
    )
    assert -61 <= offset <= -59
    assert_code_of_seed(phone_page.locator("#otp-code").inner_text())


def test_android_install_prompt_is_offered_by_the_apps_own_button(phone_page: Page) -> None:
    open_app(phone_page)
    expect(phone_page.get_by_role("button", name="ホーム画面に追加", exact=True)).to_have_count(0)
    # What Chromium on Android fires when the app may be installed (synthetic here).
    phone_page.evaluate(
        """() => {
          const e = new Event("beforeinstallprompt", { cancelable: true });
          e.prompt = () => { window.__prompted = true; return Promise.resolve(); };
          window.dispatchEvent(e);
          window.__prevented = e.defaultPrevented;
        }"""
    )
    assert phone_page.evaluate("() => window.__prevented") is True
    offer = phone_page.get_by_role("button", name="ホーム画面に追加", exact=True)
    offer.click()
    assert phone_page.evaluate("() => window.__prompted") is True
    expect(offer).to_have_count(0)


def test_wrong_pins_are_counted_and_the_third_makes_the_next_try_wait(phone_page: Page) -> None:
    open_app(phone_page)
    assert phone_page.evaluate(CREATE_VAULT, [SEED.hex(), PIN]) is True
    phone_page.reload()
    expect(phone_page.get_by_role("heading", name="ロック解除", exact=True)).to_be_visible()
    pin = phone_page.get_by_label("暗証番号", exact=True)
    unlock = phone_page.get_by_role("button", name="ロック解除", exact=True)
    unlock.click()
    expect(phone_page.locator("#pin-error")).to_have_text("暗証番号を入力してください。")
    for _ in range(2):
        pin.fill("0000")
        unlock.click()
        expect(phone_page.locator("#pin-error")).to_have_text("暗証番号が正しくありません。")
        # As the desktop app: no erase warning while more than three tries are left.
        expect(phone_page.locator("#unlock-error")).not_to_contain_text("ご注意ください")
    pin.fill("0000")
    unlock.click()
    expect(phone_page.locator("#unlock-error")).to_contain_text("次の入力まで15秒お待ちください。")
    # Too soon: the right PIN is not even tried, and says how long to wait.
    pin.fill(PIN)
    unlock.click()
    expect(phone_page.locator("#unlock-error")).to_contain_text(
        re.compile(r"次の入力まで1[0-5]秒お待ちください。")
    )
    expect(phone_page.get_by_role("heading", name="ロック解除", exact=True)).to_be_visible()
    # The lock screen opened again still says so.
    phone_page.reload()
    expect(phone_page.locator("#unlock-error")).to_contain_text("お待ちください。")


def test_the_png_icons_are_the_svg_drawn(phone_page: Page) -> None:
    # bin/app-icons draws them with Chromium; a changed SVG needs new PNGs.
    open_app(phone_page)
    diff = phone_page.evaluate(
        """async () => {
          const load = (src) => new Promise((ok, no) => {
            const i = new Image(); i.onload = () => ok(i); i.onerror = no; i.src = src; });
          const pixels = (img, n) => {
            const c = document.createElement("canvas"); c.width = c.height = n;
            const g = c.getContext("2d"); g.drawImage(img, 0, 0, n, n);
            return g.getImageData(0, 0, n, n).data;
          };
          const out = {};
          const svg = await load("/static/otp/app/icon.svg");
          for (const n of [192, 512]) {
            const a = pixels(svg, n), b = pixels(await load(`/static/otp/app/icon-${n}.png`), n);
            let sum = 0;
            for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
            out[n] = sum / a.length;
          }
          return out;
        }"""
    )
    assert diff["192"] < 2
    assert diff["512"] < 2
