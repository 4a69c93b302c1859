"""The phone app's screens against the live bank, on the phone page: 初期設定 with an issued
token → アプリロックについて → 暗証番号の設定 → the code → 取引認証 → 設定 → Directログイン.

(The leaflet's whole journeys, from the token mail, are tests/browser's; these check that
each screen of the shell does its part with the real modules and the real API.)
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from netbank.oath import txquestion as q
from netbank.oath.bankkeys import key_fingerprint
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import Token
from netbank.otp.webapp import views
from netbank.token_app.signing import sign_question
from tests.browser.support import watch_of
from tests.otp.factories import ACTIVATION_PASSWORD, issue_token
from tests.webapp.test_question_js import random_request

PIN = "1357"
NEW_PIN = "２４６８０"  # full-width, as a Japanese keyboard types it

UNLOCKED_KEYS = """async (pin) => {
  const v = await import("/static/otp/app/vault.js");
  const h = await v.unlock(pin);
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return { seed: hex(h.token.seed), signingKey: hex(h.token.signingKey) };
}"""


def forgive_refusals(page: Page, *refused: str) -> None:
    """Chromium logs each 4xx answer to a fetch as a console error; these were expected."""
    watch = watch_of(page)
    pattern = re.compile(
        r"^Failed to load resource: the server responded with a status of (401|403) .*\((.*)\)$"
    )
    kept = []
    for line in watch.console_errors:
        match = pattern.match(line)
        if not (match and any(match.group(2).endswith(path) for path in refused)):
            kept.append(line)
    watch.console_errors[:] = kept


def set_up(page: Page, token: Token) -> None:
    page.goto("/app/token/")
    expect(page.get_by_role("heading", name="初期設定", exact=True)).to_be_visible()
    page.get_by_label("サービスID", exact=True).fill("100001")
    page.get_by_label("ユーザID", exact=True).fill(token.user_id)
    page.get_by_label("利用開始パスワード", exact=True).fill(ACTIVATION_PASSWORD)
    page.get_by_role("button", name="送信", exact=True).click()
    expect(page.get_by_role("heading", name="アプリロックについて", exact=True)).to_be_visible()
    page.get_by_role("button", name="次へ", exact=True).click()
    expect(page.get_by_role("heading", name="暗証番号の設定", exact=True)).to_be_visible()


def choose_pin(page: Page, pin: str = PIN) -> None:
    page.get_by_label("暗証番号（4～8桁の数字）", exact=True).fill(pin)
    page.get_by_label("暗証番号（確認用）", exact=True).fill(pin)
    page.get_by_role("button", name="設定する", exact=True).click()
    expect(page.get_by_role("heading", name="ワンタイムパスワード", exact=True)).to_be_visible(
        timeout=20_000
    )


@pytest.mark.django_db(transaction=True)
def test_set_up_sign_change_the_pin_and_log_in_directly(phone_page: Page) -> None:
    token = issue_token()
    page = phone_page
    set_up(page, token)

    # 暗証番号の設定 refuses a bad PIN and two different ones before anything is kept.
    page.get_by_role("button", name="設定する", exact=True).click()
    expect(page.locator("#pin-new-error")).to_have_text("暗証番号を入力してください。")
    page.get_by_label("暗証番号（4～8桁の数字）", exact=True).fill("12")
    page.get_by_role("button", name="設定する", exact=True).click()
    expect(page.locator("#pin-new-error")).to_have_text(
        "暗証番号は4～8桁の数字で入力してください。"
    )
    page.get_by_label("暗証番号（4～8桁の数字）", exact=True).fill(PIN)
    page.get_by_label("暗証番号（確認用）", exact=True).fill("1358")
    page.get_by_role("button", name="設定する", exact=True).click()
    expect(page.locator("#pin-again-error")).to_have_text(
        "暗証番号が一致しません。もう一度入力してください。"
    )
    assert page.evaluate("import('/static/otp/app/vault.js').then((v) => v.vaultExists())") is False
    choose_pin(page)
    expect(page.get_by_role("status").first).to_contain_text("トークンを設定しました。")
    expect(page.locator("#otp-code")).to_have_text(re.compile(r"^\d{6}$"))
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED

    # 取引認証: the question typed in groups, the operation in words, then the code.
    keys = page.evaluate(UNLOCKED_KEYS, PIN)
    request = random_request(q.PURPOSE_TRANSFER)
    question = q.build_question(request)
    page.get_by_role("button", name="取引認証", exact=True).click()
    expect(page.get_by_role("heading", name="取引認証", exact=True)).to_be_visible()
    # 銀行から取得 before 利用開始: the bank does not know this token's key yet.
    page.get_by_role("button", name="銀行から取得", exact=True).click()
    expect(page.locator("#sign-error")).to_contain_text(
        "このトークンでは取引認証の質問を取得できません"
    )
    page.get_by_label("取引認証の質問", exact=True).fill("12345")
    page.get_by_role("button", name="内容を確認", exact=True).click()
    expect(page.locator("#question-error")).to_contain_text("形式が正しくありません")
    grouped = " ".join(question[i : i + 6] for i in range(0, 54, 6))
    page.get_by_label("取引認証の質問", exact=True).fill(grouped)
    page.get_by_role("button", name="内容を確認", exact=True).click()
    operation = page.locator("dl.operation")
    expect(operation).to_contain_text("振込")
    expect(operation).to_contain_text(f"{request.amount:,}円")
    expect(operation).to_contain_text(request.account_number)
    expect(page.locator("#signing-code")).to_have_count(0)
    page.get_by_role("button", name="取引認証番号を表示", exact=True).click()
    expect(page.locator("#signing-code")).to_have_text(
        sign_question(bytes.fromhex(keys["signingKey"]), question)
    )
    page.get_by_role("button", name="ワンタイムパスワード", exact=True).click()

    # 設定: version, the bank key's fingerprint, the helpdesk; a PIN change.
    page.get_by_role("button", name="設定", exact=True).click()
    expect(page.get_by_role("heading", name="設定", exact=True)).to_be_visible()
    expect(page.locator("#app-version")).to_have_text(views.app_version())
    expect(page.locator("#key-fingerprint")).to_have_text(
        key_fingerprint(signing_public_key_text())
    )
    expect(page.locator(".helpdesk")).to_contain_text("0120-058-098")
    expect(page.locator(".helpdesk")).to_contain_text("1番")
    expect(page.locator(".helpdesk")).to_contain_text("3番")
    page.get_by_label("現在の暗証番号", exact=True).fill("9999")
    page.get_by_label("暗証番号（4～8桁の数字）", exact=True).fill(NEW_PIN)
    page.get_by_label("暗証番号（確認用）", exact=True).fill(NEW_PIN)
    page.get_by_role("button", name="変更", exact=True).click()
    expect(page.locator("#pin-current-error")).to_contain_text("暗証番号が正しくありません。")
    page.get_by_label("現在の暗証番号", exact=True).fill(PIN)
    page.get_by_label("暗証番号（4～8桁の数字）", exact=True).fill(NEW_PIN)
    page.get_by_label("暗証番号（確認用）", exact=True).fill(NEW_PIN)
    page.get_by_role("button", name="変更", exact=True).click()
    expect(page.get_by_role("status").first).to_have_text(
        "暗証番号を変更しました。", timeout=20_000
    )
    page.get_by_role("button", name="戻る", exact=True).click()
    page.get_by_role("button", name="ロック", exact=True).click()
    expect(page.get_by_role("heading", name="ロック解除", exact=True)).to_be_visible()
    page.get_by_label("暗証番号", exact=True).fill("24680")
    page.get_by_role("button", name="ロック解除", exact=True).click()
    expect(page.locator("#otp-code")).to_have_text(re.compile(r"^\d{6}$"), timeout=20_000)

    # Directログイン: a wrong password is the bank's message; the right one opens /top/.
    page.get_by_role("button", name="Directログイン", exact=True).click()
    expect(page.get_by_role("heading", name="Directログイン", exact=True)).to_be_visible()
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.locator("#login-id-error")).to_have_text("ログインIDを入力してください。")
    page.get_by_label("ログインID", exact=True).fill(token.customer.login_id)
    page.get_by_label("ログインパスワード", exact=True).fill("Wrong-pass-9")
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.locator("#login-error")).not_to_be_empty()
    assert page.url.endswith("/app/token/")
    page.get_by_label("ログインパスワード", exact=True).fill("Login-pass-1")
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url(re.compile(r"/top/$"))
    token.refresh_from_db()
    assert token.state == Token.State.IN_USE
    forgive_refusals(page, "/banking/api/v1/signing/pending", "/api/v1/direct-login")


@pytest.mark.django_db(transaction=True)
def test_removing_the_token_warns_first_then_leaves_nothing(phone_page: Page) -> None:
    page = phone_page
    set_up(page, issue_token())
    choose_pin(page)
    page.get_by_role("button", name="設定", exact=True).click()
    page.get_by_role("button", name="トークンを削除", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("元に戻せません")
    page.get_by_role("button", name="キャンセル", exact=True).click()
    expect(page.get_by_role("heading", name="設定", exact=True)).to_be_visible()
    assert page.evaluate("import('/static/otp/app/vault.js').then((v) => v.vaultExists())")
    page.get_by_role("button", name="トークンを削除", exact=True).click()
    page.get_by_role("button", name="削除する", exact=True).click()
    expect(page.get_by_role("heading", name="初期設定", exact=True)).to_be_visible()
    expect(page.get_by_role("status").first).to_have_text("トークンを削除しました。")
    assert page.evaluate("import('/static/otp/app/vault.js').then((v) => v.vaultExists())") is False


@pytest.mark.django_db(transaction=True)
def test_fingerprint_or_face_unlock_turned_on_at_set_up_and_off_in_settings(
    phone_page: Page,
) -> None:
    from tests.webapp.test_biometric_js import add_authenticator

    page = phone_page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    add_authenticator(cdp)
    set_up(page, issue_token())
    offer = page.get_by_label("指紋・顔認証でロック解除", exact=True)
    expect(offer).to_be_visible()
    offer.check()
    choose_pin(page)
    expect(page.get_by_role("status").first).not_to_contain_text("設定できませんでした")
    page.get_by_role("button", name="ロック", exact=True).click()
    expect(page.get_by_role("heading", name="ロック解除", exact=True)).to_be_visible()
    page.get_by_role("button", name="指紋・顔認証", exact=True).click()
    expect(page.locator("#otp-code")).to_have_text(re.compile(r"^\d{6}$"))

    page.get_by_role("button", name="設定", exact=True).click()
    page.get_by_role("button", name="指紋・顔認証をやめる", exact=True).click()
    expect(page.get_by_role("status").first).to_have_text(
        "指紋・顔認証でのロック解除をやめました。"
    )
    expect(page.get_by_role("button", name="指紋・顔認証を使う", exact=True)).to_be_visible()
    page.get_by_role("button", name="戻る", exact=True).click()
    page.get_by_role("button", name="ロック", exact=True).click()
    expect(page.get_by_role("heading", name="ロック解除", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="指紋・顔認証", exact=True)).to_be_hidden()


@pytest.mark.django_db(transaction=True)
def test_a_refused_activation_says_why_and_keeps_nothing(phone_page: Page) -> None:
    page = phone_page
    token = issue_token()
    page.goto("/app/token/")
    page.get_by_label("サービスID", exact=True).fill("100001")
    page.get_by_label("ユーザID", exact=True).fill(token.user_id)
    page.get_by_label("利用開始パスワード", exact=True).fill("0000")
    page.get_by_role("button", name="送信", exact=True).click()
    error = page.locator("#setup-error")
    expect(error).to_contain_text("利用開始パスワードを5回間違えると", timeout=15_000)
    expect(error).to_have_attribute("role", "alert")
    expect(page.get_by_label("利用開始パスワード", exact=True)).to_have_value("")
    expect(page.get_by_role("heading", name="初期設定", exact=True)).to_be_visible()
    assert page.evaluate("import('/static/otp/app/vault.js').then((v) => v.vaultExists())") is False
    forgive_refusals(page, "/api/v1/activation/finish")


def test_the_copy_button_puts_the_code_on_the_clipboard(phone_page: Page) -> None:
    from tests.webapp.test_webapp_shell import CREATE_VAULT, SEED, unlock_and_read_code

    page = phone_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/app/token/")
    assert page.evaluate(CREATE_VAULT, [SEED.hex(), "2580"]) is True
    page.reload()
    code = unlock_and_read_code(page, "2580")
    page.get_by_role("button", name="コピー", exact=True).click()
    expect(page.locator("#copy-status")).to_have_text("コピーしました。")
    assert page.evaluate("() => navigator.clipboard.readText()") in {
        code,
        page.locator("#otp-code").inner_text(),
    }
