"""The terminal UI, driven through Textual's pilot: every screen, as the leaflet orders them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Digits, ListView, ProgressBar, Static

from netbank.oath import totp
from netbank.oath.bankkeys import key_fingerprint
from netbank.token_app.client import DirectLoginClient, client_from_install_config
from netbank.token_app.install_config import InstallConfig
from netbank.token_app.signing_view import fetch_pending_question
from netbank.token_app.tui import (
    IDLE_LOCK_SECONDS,
    AppLockInfoScreen,
    DirectLoginScreen,
    MainScreen,
    PinSetScreen,
    RefusedScreen,
    SettingsScreen,
    SetupScreen,
    SigningScreen,
    TokenApp,
    UnlockScreen,
    VoidedScreen,
    WipedScreen,
)
from netbank.token_app.vault import Vault, failure_delay
from tests.token_app.bank import LoopbackBank, running_bank, unused_loopback_url
from tests.token_app.conftest import CHEAP_KDF, PIN, ManualClock, make_token
from tests.token_app.keyring_backend import MachineKeyring
from tests.token_app.screens import (
    drive,
    press_button,
    save_screen,
    screen_text,
    settle,
    type_into,
)

ACTIVATION_PASSWORD = "2468"


@pytest.fixture
def bank() -> Iterator[LoopbackBank]:
    with running_bank() as running:
        yield running


def make_app(
    vault: Vault,
    clock: ManualClock,
    bank: LoopbackBank | None = None,
    *,
    lang: str = "ja",
    time_checker: object = None,
    config: InstallConfig | None = None,
    browser: list[str] | None = None,
) -> TokenApp:
    def load_config() -> InstallConfig:
        if config is not None:
            return config
        if bank is None:
            raise FileNotFoundError("no install configuration")
        return bank.install_config()

    return TokenApp(
        vault=vault,
        lang=lang,  # type: ignore[arg-type]
        client_factory=lambda c: client_from_install_config(c, sleep=lambda s: None, timeout=3.0),
        config_loader=load_config,
        clock=clock,
        time_checker=time_checker,  # type: ignore[arg-type]
        login_client_factory=lambda url: DirectLoginClient(url, timeout=3.0),
        open_browser=lambda url: browser is not None and (browser.append(url) or True),
    )


async def fill_setup(
    pilot: Pilot[int], service_id: str, user_id: str, password: str, *, keys: bool = False
) -> None:
    await type_into(pilot, "#service-id", service_id, keys=keys)
    await type_into(pilot, "#user-id", user_id, keys=keys)
    await type_into(pilot, "#activation-password", password, keys=keys)


async def set_pin(pilot: Pilot[int], pin: str, again: str | None = None) -> None:
    await type_into(pilot, "#pin", pin)
    await type_into(pilot, "#pin-again", pin if again is None else again)
    await press_button(pilot, "#set-pin")


async def unlock(pilot: Pilot[int], pin: str) -> None:
    await type_into(pilot, "#unlock-pin", pin)
    await press_button(pilot, "#unlock")


def shown_code(pilot: Pilot[int]) -> str:
    return pilot.app.screen.query_one("#code", Digits).value.replace(" ", "")


def _real_time(clock: ManualClock) -> None:
    import time

    clock.now = time.time()


# --- 初期設定 → アプリロックについて → PIN → main ------------------------------------------------


def test_first_run_follows_the_leaflet_from_setup_to_the_code(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank, tmp_path: Path
) -> None:
    _real_time(manual_clock)
    issue = bank.issue(ACTIVATION_PASSWORD)
    app = make_app(vault, manual_clock, bank)

    async def scenario(pilot: Pilot[int]) -> None:
        assert isinstance(pilot.app.screen, SetupScreen)
        text = screen_text(pilot)
        for word in ("初期設定", "サービスID:", "ユーザID:", "利用開始パスワード:", "送信", "終了"):
            assert word in text
        assert "送信ボタンを押してください" in text
        await fill_setup(pilot, bank.service_id, issue.user_id, ACTIVATION_PASSWORD, keys=True)
        save_screen(pilot, "setup", tmp_path)
        await press_button(pilot, "#send")

        assert isinstance(pilot.app.screen, AppLockInfoScreen)
        assert "アプリロックについて" in screen_text(pilot)
        assert "次へ" in screen_text(pilot)
        assert not vault.exists()  # nothing is written before the PIN exists
        save_screen(pilot, "applock", tmp_path)
        await press_button(pilot, "#next")

        assert isinstance(pilot.app.screen, PinSetScreen)
        await type_into(pilot, "#pin", PIN, keys=True)
        await type_into(pilot, "#pin-again", PIN, keys=True)
        save_screen(pilot, "pin", tmp_path)
        await press_button(pilot, "#set-pin")

        assert isinstance(pilot.app.screen, MainScreen)
        code = shown_code(pilot)
        assert bank.verify(issue.user_id, code, manual_clock())
        assert "トークンを設定しました（テスト銀行）" in screen_text(pilot)
        assert not pilot.app.screen.query_one("#skew-warning", Static).display
        save_screen(pilot, "main", tmp_path)

    drive(app, scenario)
    opened = vault.unlock(PIN)
    assert [t.user_id for t in opened.tokens] == [issue.user_id]
    assert opened.tokens[0].label == "テスト銀行"


def test_setup_shows_the_bank_keys_fingerprint_to_compare_with_the_mail(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    app = make_app(vault, manual_clock, bank)

    async def scenario(pilot: Pilot[int]) -> None:
        assert isinstance(pilot.app.screen, SetupScreen)
        text = screen_text(pilot)
        assert f"銀行の署名鍵の指紋: {key_fingerprint(bank.public_key_text())}" in text
        assert "トークン発行のメール" in text
        assert "開発・試験用" not in text

    drive(app, scenario)


def test_setup_warns_when_a_development_source_chose_the_configuration(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    app = make_app(vault, manual_clock, bank)
    app.config_source = "NETBANK_TOKEN_INSTALL_CONFIG"

    async def scenario(pilot: Pilot[int]) -> None:
        text = screen_text(pilot)
        assert "警告: 銀行の設定ファイルを NETBANK_TOKEN_INSTALL_CONFIG から" in text
        assert "開発・試験用" in text

    drive(app, scenario)


def test_setup_refuses_an_expired_bank_key_and_sends_nothing(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    bank.key_not_after = int(manual_clock()) - 1
    issue = bank.issue(ACTIVATION_PASSWORD)
    app = make_app(vault, manual_clock, bank)

    async def scenario(pilot: Pilot[int]) -> None:
        assert "銀行の署名鍵の指紋" not in screen_text(pilot)
        await fill_setup(pilot, bank.service_id, issue.user_id, ACTIVATION_PASSWORD)
        await press_button(pilot, "#send")
        assert isinstance(pilot.app.screen, SetupScreen)
        assert "署名鍵の有効期限が切れています" in screen_text(pilot)

    drive(app, scenario)
    assert bank.requests == 0


def test_setup_says_what_is_wrong_in_plain_words_and_sends_nothing(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    app = make_app(vault, manual_clock, bank)

    async def scenario(pilot: Pilot[int]) -> None:
        await press_button(pilot, "#send")
        text = screen_text(pilot)
        assert "サービスIDを入力してください。" in text
        assert "ユーザIDを入力してください。" in text
        assert "利用開始パスワードを入力してください。" in text
        await fill_setup(pilot, "999999", "123456789012", "2468")
        await press_button(pilot, "#send")
        assert "サービスID 100001" in screen_text(pilot)
        await fill_setup(pilot, bank.service_id, "12345", "12")
        await press_button(pilot, "#send")
        text = screen_text(pilot)
        assert "12桁の数字" in text
        assert "4～8桁の数字" in text
        assert isinstance(pilot.app.screen, SetupScreen)

    drive(app, scenario)
    assert bank.requests == 0


def test_setup_without_an_install_configuration_says_so(
    vault: Vault, manual_clock: ManualClock
) -> None:
    app = make_app(vault, manual_clock, None)

    async def scenario(pilot: Pilot[int]) -> None:
        await fill_setup(pilot, "100001", "123456789012", ACTIVATION_PASSWORD)
        await press_button(pilot, "#send")
        assert "インストール設定" in screen_text(pilot)

    drive(app, scenario)


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("unreachable", "銀行に接続できませんでした"),
        ("garbage", "銀行に接続できませんでした"),
        ("wrong_signature", "正規のアプリと接続先"),
    ],
)
def test_bank_failures_leave_the_customer_on_setup_with_a_clear_message(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank, mode: str, words: str
) -> None:
    issue = bank.issue(ACTIVATION_PASSWORD)
    config = bank.install_config()
    if mode == "unreachable":
        config = replace(config, bank_url=unused_loopback_url())
    else:
        bank.mode = mode
    app = make_app(vault, manual_clock, bank, config=config)

    async def scenario(pilot: Pilot[int]) -> None:
        await fill_setup(pilot, bank.service_id, issue.user_id, ACTIVATION_PASSWORD)
        await press_button(pilot, "#send")
        assert isinstance(pilot.app.screen, SetupScreen)
        assert words in screen_text(pilot)
        assert not pilot.app.screen.query_one("#send", Button).disabled

    drive(app, scenario)
    assert not vault.exists()


def test_five_wrong_activation_passwords_say_what_to_do_next(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank, tmp_path: Path
) -> None:
    issue = bank.issue(ACTIVATION_PASSWORD)
    app = make_app(vault, manual_clock, bank)

    async def scenario(pilot: Pilot[int]) -> None:
        for attempt in range(1, 5):
            await fill_setup(pilot, bank.service_id, issue.user_id, "1111")
            await press_button(pilot, "#send")
            text = screen_text(pilot)
            assert "トークンの設定ができませんでした" in text
            assert f"この端末からの失敗: {attempt}回" in text
            assert "5回間違えると" in text
        await fill_setup(pilot, bank.service_id, issue.user_id, "1111")
        await press_button(pilot, "#send")
        assert isinstance(pilot.app.screen, VoidedScreen)
        text = screen_text(pilot)
        assert "トークン発行をもう一度" in text
        assert "ヘルプデスク" in text
        save_screen(pilot, "voided", tmp_path)
        await press_button(pilot, "#back")
        assert isinstance(pilot.app.screen, SetupScreen)

    drive(app, scenario)
    assert issue.state == "voided"
    assert not vault.exists()


def test_pin_screen_refuses_short_or_mismatched_pins(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    issue = bank.issue(ACTIVATION_PASSWORD)
    app = make_app(vault, manual_clock, bank)

    async def scenario(pilot: Pilot[int]) -> None:
        await fill_setup(pilot, bank.service_id, issue.user_id, ACTIVATION_PASSWORD)
        await press_button(pilot, "#send")
        await press_button(pilot, "#next")
        assert "設定しないで終了すると" in screen_text(pilot)
        await set_pin(pilot, "123")
        assert "4～8桁の数字" in screen_text(pilot)
        await set_pin(pilot, "4821", "4822")
        assert "一致しません" in screen_text(pilot)
        assert not vault.exists()
        await set_pin(pilot, "482193")
        assert isinstance(pilot.app.screen, MainScreen)

    drive(app, scenario)
    assert vault.unlock("482193").tokens


def test_without_a_keyring_the_pin_screen_asks_for_8_digits_or_a_passphrase(
    vault_path: Path,
    manual_clock: ManualClock,
    bank: LoopbackBank,
    request: pytest.FixtureRequest,
) -> None:
    request.getfixturevalue("no_keyring")
    vault = Vault(vault_path, kdf=CHEAP_KDF, clock=manual_clock)
    issue = bank.issue(ACTIVATION_PASSWORD)
    passphrase = "田んぼの畦道 2026 spring"

    async def set_up(pilot: Pilot[int]) -> None:
        await fill_setup(pilot, bank.service_id, issue.user_id, ACTIVATION_PASSWORD)
        await press_button(pilot, "#send")
        await press_button(pilot, "#next")
        assert "8桁の数字、または12文字以上のパスフレーズ" in screen_text(pilot)
        await set_pin(pilot, PIN)
        assert "キーリング" in screen_text(pilot)
        assert not vault.exists()
        await set_pin(pilot, passphrase)
        assert isinstance(pilot.app.screen, MainScreen)

    drive(make_app(vault, manual_clock, bank), set_up)

    async def reopen(pilot: Pilot[int]) -> None:
        await unlock(pilot, passphrase)
        assert isinstance(pilot.app.screen, MainScreen)

    drive(make_app(vault, manual_clock, bank), reopen)


def test_quit_on_the_first_screen_ends_the_app(vault: Vault, manual_clock: ManualClock) -> None:
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await press_button(pilot, "#quit")

    drive(app, scenario)
    assert app.return_value == 0


# --- アプリロック解除 -------------------------------------------------------------------------------


def test_unlock_counts_wrong_pins_waits_and_then_opens(
    vault: Vault, manual_clock: ManualClock, tmp_path: Path
) -> None:
    vault.create(PIN, [make_token()])
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        assert isinstance(pilot.app.screen, UnlockScreen)
        for _ in range(3):
            await unlock(pilot, "0000")
        text = screen_text(pilot)
        assert "暗証番号が正しくありません" in text
        assert "次の入力まで15秒お待ちください" in text
        assert "JAネットバンク" not in text  # a wrong PIN reveals nothing
        assert pilot.app.screen.query_one("#unlock", Button).disabled
        save_screen(pilot, "unlock-wait", tmp_path)
        manual_clock.advance(15)
        pilot.app.screen._refresh_status()  # type: ignore[attr-defined]
        await pilot.pause()
        assert not pilot.app.screen.query_one("#unlock", Button).disabled
        await unlock(pilot, PIN)
        assert isinstance(pilot.app.screen, MainScreen)
        assert "JAネットバンク" in screen_text(pilot)

    drive(app, scenario)
    assert vault.status().failures == 0


def test_ten_wrong_pins_in_the_app_warn_then_wipe(
    vault: Vault,
    vault_path: Path,
    manual_clock: ManualClock,
    machine_keyring: MachineKeyring,
    tmp_path: Path,
) -> None:
    vault.create(PIN, [make_token()])
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        for attempt in range(1, 10):
            await unlock(pilot, "0000")
            warned = "すべて消去されます" in screen_text(pilot)
            assert warned == (attempt >= 7)
            manual_clock.advance(failure_delay(attempt))
            pilot.app.screen._refresh_status()  # type: ignore[attr-defined]
            await pilot.pause()
        assert "あと1回間違えると" in screen_text(pilot)
        save_screen(pilot, "unlock-last-try", tmp_path)
        await unlock(pilot, "0000")
        assert isinstance(pilot.app.screen, WipedScreen)
        assert "すべて消去しました" in screen_text(pilot)
        await press_button(pilot, "#setup")
        assert isinstance(pilot.app.screen, SetupScreen)

    drive(app, scenario)
    assert not vault_path.exists()
    assert machine_keyring.entries() == 0


def test_tampered_vault_gets_a_refusal_screen_not_a_pin_prompt(
    vault: Vault, vault_path: Path, manual_clock: ManualClock
) -> None:
    vault.create(PIN, [make_token()])
    doc = json.loads(vault_path.read_text())
    doc["kdf"]["memory_cost"] = 16
    vault_path.write_text(json.dumps(doc))
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        assert isinstance(pilot.app.screen, RefusedScreen)
        assert "書き換えられています" in screen_text(pilot)
        await press_button(pilot, "#quit")

    drive(app, scenario)
    assert app.return_value == 3


def test_vault_copied_from_another_machine_is_refused(
    vault: Vault, vault_path: Path, manual_clock: ManualClock, tmp_path: Path
) -> None:
    import keyring

    vault.create(PIN, [make_token()])
    copy = tmp_path / "elsewhere" / "vault.json"
    copy.parent.mkdir()
    shutil.copy2(vault_path, copy)
    previous = keyring.get_keyring()
    keyring.set_keyring(MachineKeyring())
    try:
        app = make_app(Vault(copy, kdf=CHEAP_KDF, clock=manual_clock), manual_clock)

        async def scenario(pilot: Pilot[int]) -> None:
            assert isinstance(pilot.app.screen, RefusedScreen)
            assert "この端末で作られたものではない" in screen_text(pilot)

        drive(app, scenario)
    finally:
        keyring.set_keyring(previous)


# --- the main screen ---------------------------------------------------------------------------


def test_code_and_countdown_follow_the_clock(vault: Vault, manual_clock: ManualClock) -> None:
    token = make_token()
    vault.create(PIN, [token])
    manual_clock.now = 1_795_000_010.0  # 20 s into a 30 s step
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        assert shown_code(pilot) == totp(token.seed, manual_clock())
        bar = pilot.app.screen.query_one("#countdown", ProgressBar)
        assert bar.progress == pytest.approx(10)
        assert "あと10秒" in screen_text(pilot)
        manual_clock.advance(10)
        pilot.app.screen.tick()  # type: ignore[attr-defined]
        await pilot.pause()
        assert shown_code(pilot) == totp(token.seed, manual_clock())
        assert bar.progress == pytest.approx(30)

    drive(app, scenario)


@pytest.mark.parametrize(("offset", "warned"), [(16.0, True), (-16.0, True), (14.0, False)])
def test_clock_warning_above_15_seconds(
    vault: Vault, manual_clock: ManualClock, offset: float, warned: bool, tmp_path: Path
) -> None:
    vault.create(PIN, [replace(make_token(), server_time_offset=offset)])
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        warning = pilot.app.screen.query_one("#skew-warning", Static)
        assert warning.display is warned
        if warned:
            assert "日付と時刻を正しく設定してください" in str(warning.render())
            if offset > 0:
                save_screen(pilot, "clock-warning", tmp_path)

    drive(app, scenario)


def test_clock_is_checked_against_the_bank_after_unlock(
    vault: Vault, manual_clock: ManualClock
) -> None:
    vault.create(PIN, [make_token()])
    seen: list[str] = []

    def bank_clock(url: str) -> float:
        seen.append(url)
        return 42.0

    app = make_app(vault, manual_clock, time_checker=bank_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await settle(pilot)
        assert pilot.app.screen.query_one("#skew-warning", Static).display
        assert "42秒遅れています" in screen_text(pilot)

    drive(app, scenario)
    assert seen == ["https://bank.example.jp"]
    assert vault.unlock(PIN).tokens[0].server_time_offset == 42.0


def test_several_tokens_are_listed_by_label(
    vault: Vault, manual_clock: ManualClock, tmp_path: Path
) -> None:
    first = make_token("JAネットバンク")
    second = replace(make_token("信連", user_id="111122223333"), seed=bytes(range(40, 60)))
    vault.create(PIN, [first, second])
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        listing = pilot.app.screen.query_one("#token-list", ListView)
        assert len(listing.children) == 2
        assert shown_code(pilot) == totp(first.seed, manual_clock())
        listing.focus()
        await pilot.press("down")
        await pilot.pause()
        assert str(pilot.app.screen.query_one("#token-label", Static).render()) == "信連"
        assert shown_code(pilot) == totp(second.seed, manual_clock())
        save_screen(pilot, "tokens", tmp_path)

    drive(app, scenario)


def test_idle_app_locks_itself(vault: Vault, manual_clock: ManualClock) -> None:
    vault.create(PIN, [make_token()])
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        manual_clock.advance(IDLE_LOCK_SECONDS + 1)
        pilot.app.screen.tick()  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(pilot.app.screen, UnlockScreen)
        assert pilot.app.opened is None  # type: ignore[attr-defined]

    drive(app, scenario)


def test_lock_button_returns_to_the_pin(vault: Vault, manual_clock: ManualClock) -> None:
    vault.create(PIN, [make_token()])
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#lock")
        assert isinstance(pilot.app.screen, UnlockScreen)

    drive(app, scenario)


def test_add_a_second_token_from_the_main_screen(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    vault.create(PIN, [make_token("テスト銀行")])
    issue = bank.issue(ACTIVATION_PASSWORD)
    app = make_app(vault, manual_clock, bank)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#add-token")
        assert isinstance(pilot.app.screen, SetupScreen)
        assert "戻る" in screen_text(pilot)
        await fill_setup(pilot, bank.service_id, issue.user_id, ACTIVATION_PASSWORD)
        await press_button(pilot, "#send")
        assert isinstance(pilot.app.screen, MainScreen)
        assert "テスト銀行 (2)" in screen_text(pilot)

    drive(app, scenario)
    assert [t.label for t in vault.unlock(PIN).tokens] == ["テスト銀行", "テスト銀行 (2)"]


# --- Directログイン ------------------------------------------------------------------------------


def _activated_vault(vault: Vault, bank: LoopbackBank, clock: ManualClock) -> str:
    """A vault holding a token the loopback bank really activated; returns its ユーザID."""
    from netbank.token_app.cli import token_record_from

    _real_time(clock)
    issue = bank.issue(ACTIVATION_PASSWORD)
    config = bank.install_config()
    activated = client_from_install_config(config).activate(
        bank.service_id, issue.user_id, ACTIVATION_PASSWORD
    )
    vault.create(
        PIN, [token_record_from(activated, label="テスト銀行", config=config, now=clock())]
    )
    bank.account("yamada", "Hatake-2024", issue.user_id)
    return issue.user_id


def test_direct_login_opens_the_bank_in_the_browser(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank, tmp_path: Path
) -> None:
    _activated_vault(vault, bank, manual_clock)
    opened: list[str] = []
    app = make_app(vault, manual_clock, bank, browser=opened)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#direct-login")
        assert isinstance(pilot.app.screen, DirectLoginScreen)
        text = screen_text(pilot)
        for word in ("Directログイン", "ログインID:", "ログインパスワード:", "ログイン"):
            assert word in text
        await type_into(pilot, "#login-id", "yamada")
        await type_into(pilot, "#login-password", "wrong")
        await press_button(pilot, "#login")
        assert "ログインできませんでした" in screen_text(pilot)
        assert opened == []
        await type_into(pilot, "#login-password", "Hatake-2024")
        save_screen(pilot, "direct-login", tmp_path)
        await press_button(pilot, "#login")
        assert isinstance(pilot.app.screen, MainScreen)
        assert "ブラウザでネットバンクを開きました" in screen_text(pilot)

    drive(app, scenario)
    assert bank.logins == ["yamada"]
    assert len(opened) == 1
    # A local page that posts the ticket; the browser's URL carries no ticket.
    assert opened[0].startswith("file:///")
    [ticket] = bank.tickets
    assert ticket not in opened[0]
    assert f'value="{ticket}"' in Path(opened[0].removeprefix("file://")).read_text()


def test_direct_login_shows_the_url_without_a_browser(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    _activated_vault(vault, bank, manual_clock)
    app = make_app(vault, manual_clock, bank, browser=None)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#direct-login")
        await type_into(pilot, "#login-id", "yamada")
        await type_into(pilot, "#login-password", "Hatake-2024")
        await press_button(pilot, "#login")
        text = screen_text(pilot)
        assert "60秒以内" in text
        assert bank.base_url + "/login/direct/?t=" in text

    drive(app, scenario)


def test_direct_login_refuses_a_url_off_the_banks_site(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    _activated_vault(vault, bank, manual_clock)
    bank.mode = "foreign_url"
    opened: list[str] = []
    app = make_app(vault, manual_clock, bank, browser=opened)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#direct-login")
        await type_into(pilot, "#login-id", "yamada")
        await type_into(pilot, "#login-password", "Hatake-2024")
        await press_button(pilot, "#login")
        assert "ブラウザは開きませんでした" in screen_text(pilot)

    drive(app, scenario)
    assert opened == []


# --- 取引認証 -------------------------------------------------------------------------------------


def test_signing_screen_shows_the_operation_before_the_code(
    vault: Vault, manual_clock: ManualClock, tmp_path: Path
) -> None:
    from netbank.oath import ocra
    from netbank.oath.txsign import ocra_key
    from netbank.token_app.signing import SUITE

    token = make_token()
    vault.create(PIN, [token])
    question = "1000512317654321000000050000" + "0011234567" + "00000000" + "12345678"
    expected = ocra(SUITE, ocra_key(token.signing_key), question=question)
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#sign")
        assert isinstance(pilot.app.screen, SigningScreen)
        await type_into(pilot, "#question", "1000 5123")
        await press_button(pilot, "#check")
        assert "54桁の数字を入力してください" in screen_text(pilot)
        grouped = " ".join(question[i : i + 4] for i in range(0, 54, 4))
        await type_into(pilot, "#question", grouped)
        await press_button(pilot, "#check")
        text = screen_text(pilot)
        for shown in ("振込", "0005", "7654321", "50,000円", "12345678"):
            assert shown in text
        assert "001-1234567" in text  # the account paid from
        assert "即時（今すぐ振込）" in text  # executed now, not a 振込予約
        assert not pilot.app.screen.query_one("#sign-code", Digits).display
        await press_button(pilot, "#approve")
        assert pilot.app.screen.query_one("#sign-code", Digits).value == expected
        save_screen(pilot, "signing", tmp_path)
        # Changing the question hides the code until the new one is checked.
        await type_into(pilot, "#question", "3" + "0" * 15 + "000002000000" + "0" * 18 + "12345678")
        assert not pilot.app.screen.query_one("#sign-code", Digits).display
        assert not pilot.app.screen.query_one("#approve", Button).display

    drive(app, scenario)


def test_signing_screen_fetches_the_question_from_the_bank(
    vault: Vault, manual_clock: ManualClock, bank: LoopbackBank
) -> None:
    user_id = _activated_vault(vault, bank, manual_clock)
    app = TokenApp(
        vault=vault,
        clock=manual_clock,
        pending_fetcher=lambda token, now: fetch_pending_question(token, now=now),
    )

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#sign")
        await press_button(pilot, "#fetch")
        assert "認証を待っているお取引はありません" in screen_text(pilot)
        bank.pending[user_id] = "3" + "0" * 15 + "000002000000" + "0" * 18 + "12345678"
        await press_button(pilot, "#fetch")
        await pilot.pause()
        text = screen_text(pilot)
        assert "振込限度額の引き上げ" in text
        assert "2,000,000円" in text
        await press_button(pilot, "#approve")
        assert len(pilot.app.screen.query_one("#sign-code", Digits).value) == 8

    drive(app, scenario)


# --- 設定 ----------------------------------------------------------------------------------------


def test_settings_rename_check_clock_change_pin_and_remove(
    vault: Vault, manual_clock: ManualClock, tmp_path: Path
) -> None:
    vault.create(PIN, [make_token("JAネットバンク"), make_token("信連", user_id="111122223333")])
    app = make_app(vault, manual_clock, time_checker=lambda url: 3.0)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#settings")
        assert isinstance(pilot.app.screen, SettingsScreen)
        save_screen(pilot, "settings", tmp_path)
        text = screen_text(pilot)
        assert "ヘルプデスク" in text
        assert "端末の鍵の保管場所: OSのキーリング" in text

        await type_into(pilot, "#label-input", "信連")
        await press_button(pilot, "#rename")
        assert "すでに使われています" in screen_text(pilot)
        await type_into(pilot, "#label-input", "メイン口座")
        await press_button(pilot, "#rename")
        assert "表示名を変更しました" in screen_text(pilot)

        await press_button(pilot, "#check-time")
        assert "正しく設定されています（ずれ 3秒）" in screen_text(pilot)

        await type_into(pilot, "#pin-current", "9999")
        await type_into(pilot, "#pin-new", "13572468")
        await type_into(pilot, "#pin-new-again", "13572468")
        await press_button(pilot, "#change-pin")
        assert "暗証番号が正しくありません" in screen_text(pilot)
        await type_into(pilot, "#pin-current", PIN)
        await type_into(pilot, "#pin-new", "13572468")
        await type_into(pilot, "#pin-new-again", "13572468")
        await press_button(pilot, "#change-pin")
        assert "暗証番号を変更しました" in screen_text(pilot)

        await press_button(pilot, "#remove")
        assert "元に戻せません" in screen_text(pilot)
        await press_button(pilot, "#confirm-no")
        await press_button(pilot, "#remove")
        await press_button(pilot, "#confirm-yes")
        assert isinstance(pilot.app.screen, MainScreen)
        assert "「メイン口座」を削除しました" in screen_text(pilot)

    drive(app, scenario)
    opened = vault.unlock("13572468")
    assert [t.label for t in opened.tokens] == ["信連"]


def test_removing_the_last_token_starts_over(
    vault: Vault, vault_path: Path, manual_clock: ManualClock
) -> None:
    vault.create(PIN, [make_token()])
    app = make_app(vault, manual_clock)

    async def scenario(pilot: Pilot[int]) -> None:
        await unlock(pilot, PIN)
        await press_button(pilot, "#settings")
        await press_button(pilot, "#remove")
        await press_button(pilot, "#confirm-yes")
        assert isinstance(pilot.app.screen, SetupScreen)

    drive(app, scenario)
    assert not vault_path.exists()


def test_english_screens(vault: Vault, manual_clock: ManualClock, tmp_path: Path) -> None:
    app = make_app(vault, manual_clock, lang="en")

    async def scenario(pilot: Pilot[int]) -> None:
        text = screen_text(pilot)
        for word in ("Initial setup", "Service ID:", "User ID:", "Activation password:", "Send"):
            assert word in text
        save_screen(pilot, "setup-en", tmp_path)

    drive(app, scenario)
