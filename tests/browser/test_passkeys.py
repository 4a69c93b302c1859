"""Passkeys in Chromium with its virtual authenticator (CDP ``WebAuthn``): register one on
各種お申込・手続き → パスキー, log in with it (no password, no OTP), rename and remove it;
and the attacks: a replayed assertion, an authenticator the bank never saw, user
verification off, and a look-alike origin (the live server reached as 127.0.0.1 while
the bank is localhost) that can neither get nor use an assertion.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from playwright.sync_api import CDPSession, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers.models import Customer
from netbank.customers.services import customer_create
from netbank.notifications.models import OutboxMail
from netbank.passkeys import services
from netbank.passkeys.models import Passkey
from tests.browser.support import shot
from tests.browser.test_login import (
    LOGIN_ID,
    NAME,
    PASSWORD,
    SEED,
    current_otp,
    enter_otp,
    expect_on_login,
    expect_on_top,
    header_logout,
    log_in,
)
from tests.otp.factories import in_use_token
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.browser


TRANSACTION_PASSWORD = "Kakunin77"
REFUSED = "パスキーを確認できませんでした。"


@pytest.fixture
def otp_customer(transactional_db: None) -> Customer:
    """test_login's customer, with the token in use."""
    customer = customer_create(
        login_id=LOGIN_ID,
        name_kanji=NAME,
        name_kana="ノウキョウ ハナコ",
        email="hanako@example.jp",
        password=PASSWORD,
        transaction_password=TRANSACTION_PASSWORD,
    )
    in_use_token(customer, seed=SEED)
    return customer


@pytest.fixture
def bank_url(live_server: LiveServer, settings: Settings) -> str:
    """The bank is http://localhost:port (the relying party "localhost")."""
    url = live_server.url.replace("127.0.0.1", "localhost")
    settings.NETBANK_PUBLIC_URL = url
    return url


@pytest.fixture
def phishing_url(bank_url: str) -> str:
    """The same server under another origin, playing the look-alike site."""
    return bank_url.replace("localhost", "127.0.0.1")


class VirtualAuthenticator:
    """Chromium's virtual platform authenticator on one page (CDP ``WebAuthn``)."""

    def __init__(self, page: Page, *, user_verified: bool = True) -> None:
        self.cdp: CDPSession = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.id = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": user_verified,
                    "automaticPresenceSimulation": True,
                }
            },
        )["authenticatorId"]

    def credentials(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.id}
        )["credentials"]
        return result

    def add(self, soft: SoftAuthenticator) -> None:
        """Hold a copy of ``soft``'s discoverable credential."""
        pkcs8 = soft.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.cdp.send(
            "WebAuthn.addCredential",
            {
                "authenticatorId": self.id,
                "credential": {
                    "credentialId": base64.b64encode(soft.credential_id).decode(),
                    "isResidentCredential": True,
                    "rpId": soft.rp_id,
                    "privateKey": base64.b64encode(pkcs8).decode(),
                    "userHandle": base64.b64encode(soft.user_handle or b"\0" * 32).decode(),
                    "signCount": soft.sign_count,
                },
            },
        )

    def remove(self) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})


def refusals(reason: str) -> int:
    return AuditRecord.objects.filter(event="passkey.refused", data__reason=reason).count()


def passkey_login_button(page: Page) -> Any:
    return page.locator("main").get_by_role("button", name="パスキーでログイン", exact=True)


# A browser without conditional mediation: the login page offers the button only.
NO_CONDITIONAL_UI = """
if (window.PublicKeyCredential) {
  PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
}
"""


def passkey_post(request: Any) -> bool:
    return bool(request.method == "POST" and request.url.endswith("/login/passkey/"))


def log_in_with_passkey_button(page: Page) -> str:
    """Log in with the passkey button; the form post the browser made (to replay it)."""
    with page.expect_request(passkey_post) as posted:
        passkey_login_button(page).click()
    expect_on_top(page)
    body = posted.value.post_data
    assert body is not None
    return body


def open_passkeys(page: Page) -> None:
    page.locator("main").get_by_role("link", name="各種お申込・手続き").click()
    page.locator("main").get_by_role("link", name="パスキー", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキー")


def test_register_log_in_replay_rename_and_remove(
    pc_page: Page, otp_customer: Customer, bank_url: str, frozen_clock: datetime
) -> None:
    page = pc_page
    authenticator = VirtualAuthenticator(page)
    page.goto(bank_url + "/")
    log_in(page)
    enter_otp(page)
    expect_on_top(page)
    open_passkeys(page)
    expect(page.locator("main")).to_contain_text("登録済みのパスキーはありません。")

    # 登録: name, the current OTP and the 確認用パスワード on one screen.
    page.locator("main").get_by_role("link", name="パスキーを登録する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキーの登録（確認）")
    page.get_by_label(re.compile(r"パスキーの名前$")).fill("仕事用PC")
    clock.advance(30)
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill("000000")
    page.get_by_label("ソフトウェアキーボードで入力する").uncheck()
    page.locator("#id_transaction_password").fill(TRANSACTION_PASSWORD)
    page.locator("main button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text("ワンタイムパスワードが正しくありません。")
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(current_otp())
    page.get_by_label("ソフトウェアキーボードで入力する").uncheck()
    page.locator("#id_transaction_password").fill(TRANSACTION_PASSWORD)
    shot(page, "passkey-register")
    page.locator("main button[type=submit]").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキーの作成")
    page.get_by_role("button", name="パスキーを作成する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキーの登録（完了）")
    expect(page.locator("main")).to_contain_text("この端末のみ")
    shot(page, "passkey-register-done")
    held = authenticator.credentials()
    assert len(held) == 1
    assert held[0]["rpId"] == "localhost"
    passkey = Passkey.objects.get(customer=otp_customer)
    assert base64.b64decode(held[0]["credentialId"]) == bytes(passkey.credential_id)
    # The authenticator holds a random user handle, not the login ID.
    assert base64.b64decode(held[0]["userHandle"]) != otp_customer.login_id.encode()
    notice = OutboxMail.objects.get(purpose="passkey_registered")
    assert "仕事用PC" in notice.body

    # 一覧 and 名前の変更.
    page.get_by_role("link", name="パスキーの一覧へ").click()
    row = page.locator("tr.passkey-row")
    expect(row).to_contain_text("仕事用PC")
    expect(row).to_contain_text("未使用")
    page.get_by_role("link", name="名前の変更（仕事用PC）").click()
    page.get_by_label(re.compile(r"パスキーの名前$")).fill("自宅のPC")
    page.locator("main button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text("パスキーの名前を変更しました。")
    expect(row).to_contain_text("自宅のPC")

    # Log in with it: no password, no OTP; the session is a full login's. Conditional
    # UI: the login page asks in the background and the (virtual) authenticator answers
    # at once, so logging out lands on トップ again.
    with page.expect_request(passkey_post) as posted:
        header_logout(page).click()
    expect_on_top(page)
    body = posted.value.post_data
    assert body is not None
    assert "credential=" in body
    login = AuditRecord.objects.filter(event="login.succeeded").order_by("-pk").first()
    assert login is not None
    assert login.data["channel"] == "passkey"
    open_passkeys(page)
    expect(row).not_to_contain_text("未使用")

    # From here the browser has no conditional UI: the login page shows the button.
    page.add_init_script(NO_CONDITIONAL_UI)
    header_logout(page).click()
    expect_on_login(page)
    expect(page.get_by_label(re.compile(r"ログインID$"))).to_have_attribute(
        "autocomplete", "username webauthn"
    )
    # The same assertion, posted again, is refused and logs nobody in.
    replay = page.request.post(
        bank_url + "/login/passkey/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert replay.status == 400
    assert REFUSED in replay.text()
    assert refusals("replayed") == 1
    page.goto(bank_url + "/top/")
    expect_on_login(page)
    log_in_with_passkey_button(page)

    # 削除: the last passkey needs the current OTP.
    open_passkeys(page)
    page.get_by_role("link", name="削除（自宅のPC）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("パスキーの削除（確認）")
    expect(page.locator("main")).to_contain_text("最後のパスキーです。")
    clock.advance(30)
    page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(current_otp())
    page.locator("main button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text("パスキーを削除しました。")
    expect(page.locator("main")).to_contain_text("登録済みのパスキーはありません。")
    assert OutboxMail.objects.filter(purpose="passkey_removed").count() == 1

    # A removed passkey logs in no more.
    header_logout(page).click()
    passkey_login_button(page).click()
    expect(page.locator("#passkey-error")).to_contain_text(REFUSED)
    assert refusals("revoked") == 1


def _registered(owner: Customer, bank_url: str) -> SoftAuthenticator:
    """A passkey the bank registered (made by a software copy, so a virtual authenticator
    can be given the same key)."""
    soft = SoftAuthenticator(rp_id="localhost", origin=bank_url)
    services.register(
        customer=owner,
        response=soft.create(services.registration_options(customer=owner)),
        name="iPhone",
        ip=None,
    )
    return soft


def _post(soft: SoftAuthenticator, **kw: Any) -> str:
    """An assertion of ``soft`` for fresh login options, posted as the login form is."""
    response = Client().post(
        "/login/passkey/",
        {"credential": json.dumps(soft.get(services.login_options(), **kw))},
    )
    return str(response.status_code)


def test_an_unknown_authenticator_user_verification_off_and_a_phishing_origin_are_refused(
    pc_page: Page, otp_customer: Customer, bank_url: str, phishing_url: str
) -> None:
    page = pc_page
    page.add_init_script(NO_CONDITIONAL_UI)
    soft = _registered(otp_customer, bank_url)

    # A second authenticator with a passkey for this site the bank never registered.
    stranger = VirtualAuthenticator(page)
    stranger.add(
        SoftAuthenticator(
            rp_id="localhost", origin=bank_url, key=ec.generate_private_key(ec.SECP256R1())
        )
    )
    page.goto(bank_url + "/")
    passkey_login_button(page).click()
    expect(page.locator("#passkey-error")).to_contain_text(REFUSED)
    assert refusals("unknown_credential") == 1
    stranger.remove()

    # User verification off: the browser will not assert for "required", and the bank
    # refuses such an assertion made anyway.
    unverified = VirtualAuthenticator(page, user_verified=False)
    unverified.add(soft)
    page.goto(bank_url + "/")
    passkey_login_button(page).click()
    expect(page.locator("[data-passkey-message]")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    soft.user_verified = False
    assert _post(soft) == "400"
    soft.user_verified = True
    assert refusals("invalid") == 1
    unverified.remove()

    # The phishing origin: the browser refuses the bank's rpId there, before any
    # assertion exists; an assertion signed for that origin with the real key (as a
    # relay would need) is refused by the bank.
    real = VirtualAuthenticator(page)
    real.add(soft)
    page.goto(phishing_url + "/")
    passkey_login_button(page).click()
    expect(page.locator("[data-passkey-message]")).to_contain_text(
        "このページではパスキーを使えません。"
    )
    shot(page, "passkey-phishing-origin")
    assert real.credentials()[0]["signCount"] == soft.sign_count  # nothing was signed
    assert _post(soft, origin=phishing_url) == "400"
    assert refusals("invalid") == 2
    assert not AuditRecord.objects.filter(event="passkey.accepted").exists()
    # The same key at the bank's own origin is accepted: the origin was the reason.
    page.goto(bank_url + "/")
    passkey_login_button(page).click()
    expect_on_top(page)
    soft.sign_count = 1000  # past the virtual authenticator's count, which the bank stored
    assert _post(soft) == "302"
