"""The README's tour, walked in Chromium through a real `netbank demo` process.

The demo runs as a visitor starts it (its own data folder, waitress, the mail catcher,
the mail worker); the browser follows the leaflet with the credentials the demo
prints; the token app is the real `netbank-token` command with the configuration the
demo wrote, exactly as the banner says to start it. Every step keeps a picture in
test-artifacts/screenshots/tour-*.png. With NETBANK_UPDATE_DOCS_IMG=1 the pictures
replace docs/img/tour-*.png (committed: the README shows them):

    NETBANK_UPDATE_DOCS_IMG=1 ./bin/test tests/browser/test_tour_screenshots.py

(as 8-bit palette PNGs, tests/browser/png_palette.py, so they stay small). Without it
the test checks that the committed pictures exist, are PNGs of the width this test
produces and stay under 200 KB.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import support
from tests.browser.png_palette import shrink
from tests.browser.test_readme_screenshots import MAX_BYTES, has_japanese_font, png_size

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STARTUP_DEADLINE = 120.0
STOP_TIMEOUT = 30.0
MAIL_DEADLINE = 30.0

# What the demo prints (netbank.demo.seed); the test reads the keys from the banner.
TARO = {"login_id": "demo0001", "password": "sakura2026", "kakunin": "kakunin01"}
TARO_ANSWERS = {
    "中学校の時の部活動は何ですか？": "サッカー部",
    "初めて見た映画のタイトルは何ですか？": "となりのトトロ",
    "子供の頃のあだ名は何ですか？": "たろちゃん",
}
HANAKO = {"login_id": "demo0002", "password": "momiji2026"}
OPERATOR = {"username": "operator01", "password": "demo-operator-2026"}
PHONE_MAIL = "taro.phone@mobile.example.jp"
ACTIVATION_PASSWORD = "482913"
APP_PIN = "25801470"  # no keyring here: the app asks for 8 digits
# 振込 above the signing threshold to a 登録先: the confirmation asks for a 取引認証番号.
TRANSFER_AMOUNT = "350000"

# name → (viewport, device scale factor, full page). The phone uses 2x pixels (sharp,
# a third of 3x's bytes) and its first screen only, which holds SLI012's form head.
SHOTS: dict[str, tuple[str, int, bool]] = {
    "tour-top.png": ("pc", 1, True),
    "tour-otp-menu.png": ("pc", 1, True),
    "tour-issue-input.png": ("pc", 1, True),
    "tour-issue-confirm.png": ("pc", 1, True),
    "tour-token-mail.png": ("pc", 1, True),
    "tour-start-use.png": ("pc", 1, True),
    "tour-login-otp.png": ("pc", 1, True),
    "tour-sli012-phone.png": ("phone", 2, False),
    "tour-furikomi-confirm.png": ("pc", 1, True),
    "tour-helpdesk-customer.png": ("pc", 1, True),
}

# The customer page's audit trail runs on for pages: the README shows its head.
CLIP_HEIGHT = {"tour-helpdesk-customer.png": 2300}


@dataclass
class Demo:
    base: str
    data_dir: Path
    banner: str
    proc: subprocess.Popen[str]

    def key(self, pattern: str) -> str:
        found = re.search(pattern, self.banner, re.MULTILINE)
        assert found is not None, self.banner
        return found[1]


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    """A visitor's shell: production settings module, a fresh data folder."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NETBANK_", "DJANGO_", "SMTP_"))
        and k not in {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    env.update(
        NETBANK_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="netbank.config.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    data_dir = tmp_path / "var"
    log = tmp_path / "demo.log"
    port = _free_port()
    command = [sys.executable, "-m", "netbank.cli", "demo", "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "--smtp-port", str(_free_port())],
            env=_env(data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while "Ctrl-C" not in log.read_text("utf-8"):
            assert proc.poll() is None, log.read_text("utf-8")
            assert time.monotonic() < deadline, "the demo did not start in time"
            time.sleep(0.25)  # polling a real process: there is no event to wait on
        yield Demo(f"http://127.0.0.1:{port}", data_dir, log.read_text("utf-8"), proc)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text("utf-8")


class TokenApp:
    """`netbank-token` as the demo's banner says to start it (its command line)."""

    def __init__(self, demo: Demo) -> None:
        command = demo.key(r"^\s+NETBANK_TOKEN_HOME=(\S+) \S+netbank-token$")
        self.home = command
        self.program = str(Path(sys.executable).with_name("netbank-token"))

    def run(self, *args: str, stdin: str) -> dict[str, Any]:
        env = {
            **os.environ,
            "NETBANK_TOKEN_HOME": self.home,
            # Never the real keyring of the machine running the tests: a 0600 file, in a
            # state folder beside the demo's, never the machine's own.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "NETBANK_TOKEN_SECRET_DIR": str(Path(self.home).parent / "token-app-state"),
        }
        result = subprocess.run(
            [self.program, *args, "--json"],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        answer: dict[str, Any] = json.loads(result.stdout)
        assert answer["ok"], answer
        return answer


def _context(browser: Browser, demo: Demo, label: str, scale: int = 1) -> BrowserContext:
    options = {**support.VIEWPORTS[label], "device_scale_factor": scale}
    context = browser.new_context(
        base_url=demo.base,
        locale=support.LOCALE,
        timezone_id=support.TIMEZONE,
        color_scheme="light",
        **options,
    )
    context.set_default_timeout(15_000)
    return context


def _shot(page: Page, name: str) -> None:
    page.evaluate("document.fonts.ready.then(() => true)")
    support.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = str(support.ARTIFACTS / name)
    label, _scale, full_page = SHOTS[name]
    if name in CLIP_HEIGHT:
        width = support.VIEWPORTS[label]["viewport"]["width"]
        clip = {"x": 0, "y": 0, "width": width, "height": CLIP_HEIGHT[name]}
        page.screenshot(path=path, full_page=True, clip=clip)  # type: ignore[arg-type]
    else:
        page.screenshot(path=path, full_page=full_page)


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _log_in(page: Page, login_id: str, password: str) -> None:
    page.goto("/")
    page.get_by_label(re.compile(r"ログインID$")).fill(login_id)
    page.get_by_label(re.compile(r"ログインパスワード$")).fill(password)
    page.get_by_role("button", name="ログイン", exact=True).click()


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


def _answer(page: Page) -> None:
    """追加認証: the question the bank picked, answered from the demo's table."""
    text = page.locator("main").inner_text()
    question = next(q for q in TARO_ANSWERS if q in text)
    page.get_by_label(re.compile(r"回答")).fill(TARO_ANSWERS[question])


def _mail_field(body: str, label: str, pattern: str) -> str:
    found = re.search(rf"{label}: ?({pattern})", body)
    assert found is not None, body
    return found[1]


def _phone_sli012(browser: Browser, demo: Demo) -> None:
    """Leaflet part 2: demo0001 on an iPhone lands on SLI012; 中止する for now."""
    context = _context(browser, demo, "phone", scale=SHOTS["tour-sli012-phone.png"][1])
    try:
        page = support.new_watched_page(context, "phone")
        _log_in(page, TARO["login_id"], TARO["password"])
        _heading(page, "ワンタイムパスワード利用申請")
        expect(page.locator("main")).to_contain_text("画面ID: SLI012")
        page.get_by_label(re.compile(r"メールアドレス$")).fill(PHONE_MAIL)
        page.get_by_label(re.compile(r"メールアドレス（確認用）$")).fill(PHONE_MAIL)
        page.evaluate("window.scrollTo(0, 0)")
        _shot(page, "tour-sli012-phone.png")
        page.get_by_role("button", name="中止する", exact=True).click()
        _heading(page, "トップ")
        problems = support.watch_of(page).problems()
        support.forget_page(page)
    finally:
        context.close()
    assert problems == []


def _pc_journey(browser: Browser, demo: Demo, app: TokenApp) -> None:
    """Leaflet part 1 with demo0001, then a signed 振込."""
    context = _context(browser, demo, "pc")
    try:
        page = support.new_watched_page(context, "pc")
        _log_in(page, TARO["login_id"], TARO["password"])
        _heading(page, "トップ")
        expect(page.locator("main")).to_contain_text("山田 太郎")
        _shot(page, "tour-top.png")

        page.get_by_role("link", name="各種お申込・手続き").first.click()
        page.locator("main").get_by_role("link", name="ワンタイムパスワード", exact=True).click()
        _heading(page, "ワンタイムパスワード申請内容選択")
        _shot(page, "tour-otp-menu.png")

        page.get_by_role("link", name="トークン発行", exact=True).click()
        _heading(page, "トークン発行（入力）")
        page.get_by_label(re.compile(r"携帯電話メールアドレス$")).fill(PHONE_MAIL)
        page.get_by_label(re.compile(r"利用開始パスワード$")).fill(ACTIVATION_PASSWORD)
        page.get_by_label(re.compile(r"利用開始パスワード（確認用）$")).fill(ACTIVATION_PASSWORD)
        _shot(page, "tour-issue-input.png")
        page.get_by_role("button", name="次へ").click()

        _heading(page, "トークン発行（確認）")
        expect(page.get_by_label("ソフトウェアキーボードで入力する")).to_be_checked()
        _type_on_keyboard(page, TARO["kakunin"])
        expect(page.locator("#id_transaction_password")).to_have_value(TARO["kakunin"])
        _answer(page)
        _shot(page, "tour-issue-confirm.png")
        page.get_by_role("button", name="確定する").click()
        _heading(page, "トークン発行（完了）")

        # The mail to the phone, as the demo's mail catcher caught it.
        page.goto("/demo/mail/")
        row = page.locator("table.mailbox tbody tr").filter(has_text=PHONE_MAIL)
        deadline = time.monotonic() + MAIL_DEADLINE
        while row.count() == 0:
            assert time.monotonic() < deadline, "the token mail never reached the catcher"
            time.sleep(0.5)  # the demo's worker polls every second
            page.reload()
        row.get_by_role("link").click()
        body = page.locator("main").inner_text()
        _shot(page, "tour-token-mail.png")
        service_id = _mail_field(body, "サービスID", r"[0-9]+")
        user_id = _mail_field(body, "ユーザID", r"[0-9]{12}")

        # The token app's 初期設定, with the command and configuration the demo printed.
        app.run(
            "setup",
            "--service-id",
            service_id,
            "--user-id",
            user_id,
            "--password-stdin",
            "--pin-stdin",
            stdin=f"{ACTIVATION_PASSWORD}\n{APP_PIN}\n",
        )
        code = app.run("code", "--pin-stdin", stdin=f"{APP_PIN}\n")["code"]

        page.goto("/procedures/otp/")
        page.get_by_role("link", name="ワンタイムパスワード利用開始", exact=True).click()
        _heading(page, "ワンタイムパスワード利用開始")
        page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(code)
        _shot(page, "tour-start-use.png")
        page.get_by_role("button", name="利用開始する").click()
        _heading(page, "ワンタイムパスワード利用開始（完了）")

        # 振込 to a 登録先 above the signing threshold: 取引認証 in the app.
        page.goto("/banking/furikomi/")
        page.locator("main tr").filter(has_text="鈴木 花子").get_by_role(
            "link", name="選択"
        ).click()
        _heading(page, "振込（入力）")
        page.get_by_label(re.compile("振込金額")).fill(TRANSFER_AMOUNT)
        page.get_by_role("button", name="次へ").click()
        _heading(page, "振込（確認）")
        question = page.locator(".signing-question").inner_text().replace(" ", "")
        signed = app.run(
            "sign", "--question", question, "--yes", "--pin-stdin", stdin=f"{APP_PIN}\n"
        )
        page.get_by_label(re.compile("取引認証番号")).fill(signed["code"])
        _type_on_keyboard(page, TARO["kakunin"])
        _shot(page, "tour-furikomi-confirm.png")
        page.get_by_role("button", name="確定する").click()
        _heading(page, "振込（完了）")
        expect(page.locator("main")).to_contain_text("350,000円")
        problems = support.watch_of(page).problems()
        support.forget_page(page)
    finally:
        context.close()
    assert problems == []


def _otp_login(browser: Browser, demo: Demo) -> None:
    """demo0002 has the OTP on: ID and password, then the code from the printed key."""
    secret = demo.key(r"鍵 / Key \(base32\)\s+([A-Z2-7]{32})$")
    context = _context(browser, demo, "pc")
    try:
        page = support.new_watched_page(context, "pc")
        _log_in(page, HANAKO["login_id"], HANAKO["password"])
        _heading(page, "ワンタイムパスワード認証")
        # One step ahead: the demo's own confirmation may have used this step.
        page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(
            pyotp.TOTP(secret).at(int(time.time()) + 30)
        )
        _shot(page, "tour-login-otp.png")
        page.get_by_role("button", name="認証する", exact=True).click()
        _heading(page, "トップ")
        expect(page.locator("main")).to_contain_text("佐藤 花子")
        problems = support.watch_of(page).problems()
        support.forget_page(page)
    finally:
        context.close()
    assert problems == []


def _helpdesk(browser: Browser, demo: Demo) -> None:
    """The operator printed by the demo finds demo0001 and opens the customer page."""
    secret = demo.key(rf"^\s+{OPERATOR['username']}\s+\S+\s+operator\s+([A-Z2-7]{{32}})$")
    context = _context(browser, demo, "pc")
    try:
        page = support.new_watched_page(context, "pc")
        page.goto("/helpdesk/login/")
        page.get_by_label(re.compile(r"ユーザー名$")).fill(OPERATOR["username"])
        page.get_by_label(re.compile(r"パスワード$")).first.fill(OPERATOR["password"])
        page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="ログイン", exact=True).click()
        _heading(page, "お客さま検索")
        page.get_by_label(re.compile("ログインID・氏名")).fill(TARO["login_id"])
        page.get_by_role("button", name="検索", exact=True).click()
        page.locator("#search-results").get_by_role("link", name=TARO["login_id"]).click()
        _heading(page, "お客さま情報")
        expect(page.locator("#customer-status")).to_contain_text("利用中")
        _shot(page, "tour-helpdesk-customer.png")
        problems = support.watch_of(page).problems()
        support.forget_page(page)
    finally:
        context.close()
    assert problems == []


def test_readme_tour_through_the_running_demo(browser: Browser, demo: Demo) -> None:
    updating = os.environ.get("NETBANK_UPDATE_DOCS_IMG") == "1"
    if not has_japanese_font():
        message = "no Noto Sans CJK JP: install fonts-noto-cjk (Japanese would render as boxes)"
        if updating:
            pytest.fail(message)
        pytest.skip(message)
    app = TokenApp(demo)

    _phone_sli012(browser, demo)
    _pc_journey(browser, demo, app)
    _otp_login(browser, demo)
    _helpdesk(browser, demo)

    for name, (label, scale, _full) in SHOTS.items():
        artifact = support.ARTIFACTS / name
        target = support.DOCS_IMG / name
        if updating:
            shrink(artifact, target)
        assert target.exists(), f"{target} missing: run with NETBANK_UPDATE_DOCS_IMG=1"
        assert target.stat().st_size < MAX_BYTES, f"{target} is over {MAX_BYTES} bytes"
        width, _height = png_size(target)
        assert width == support.VIEWPORTS[label]["viewport"]["width"] * scale
