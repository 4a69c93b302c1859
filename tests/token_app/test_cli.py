"""``netbank-token`` commands: exit codes, --json, messages, and the vault left as it was."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from netbank.oath.bankkeys import key_fingerprint
from netbank.token_app import cli
from netbank.token_app.client import DirectLoginClient, client_from_install_config
from netbank.token_app.install_config import InstallConfig
from netbank.token_app.timecheck import BootClock
from netbank.token_app.vault import Vault
from tests.token_app.bank import LoopbackBank, running_bank, unused_loopback_url
from tests.token_app.conftest import CHEAP_KDF, PIN, ManualClock, make_token
from tests.token_app.keyring_backend import MachineKeyring

ACTIVATION_PASSWORD = "2468"
FILE_PIN = "48213795"  # a vault without a keyring asks for 8 digits


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


@dataclass
class CliRunner:
    """Runs the CLI in-process with scripted terminal answers and this test's clock."""

    vault_path: Path
    clock: ManualClock
    environ: dict[str, str] = field(
        default_factory=lambda: {
            "LANG": "ja_JP.UTF-8",
            # conftest's launch_dir: this test's folder for Directログイン pages
            "NETBANK_TOKEN_LAUNCH_DIR": os.environ["NETBANK_TOKEN_LAUNCH_DIR"],
        }
    )
    client_factory: Callable[[InstallConfig], Any] = field(
        default=lambda config: client_from_install_config(
            config, sleep=lambda seconds: None, timeout=3.0
        )
    )

    login_client_factory: Callable[[str], Any] = field(
        default=lambda url: DirectLoginClient(url, timeout=3.0)
    )
    has_browser: bool = True
    opened_urls: list[str] = field(default_factory=list)
    # Seconds the device clock has been set forward by hand (the boot clock did not move).
    clock_set_forward: float = 0.0

    def boot_clock(self) -> BootClock:
        return BootClock("test-boot", self.clock() - self.clock_set_forward)

    def _open_browser(self, url: str) -> bool:
        if self.has_browser:
            self.opened_urls.append(url)
        return self.has_browser

    def __call__(self, *argv: str, stdin: str = "", answers: tuple[str, ...] = ()) -> Result:
        pending = list(answers)

        def prompt(text: str, *, secret: bool) -> str:
            if not pending:
                raise EOFError
            return pending.pop(0)

        out, err = io.StringIO(), io.StringIO()
        env = cli.Environment(
            stdin=io.StringIO(stdin),
            stdout=out,
            stderr=err,
            prompt=prompt,
            clock=self.clock,
            kdf=CHEAP_KDF,
            client_factory=self.client_factory,
            login_client_factory=self.login_client_factory,
            open_browser=self._open_browser,
            environ=dict(self.environ),
            boot_clock=self.boot_clock,
        )
        code = cli.run([*argv, "--vault", str(self.vault_path)], env)
        return Result(code, out.getvalue(), err.getvalue())

    def vault(self) -> Vault:
        return Vault(self.vault_path, kdf=CHEAP_KDF, clock=self.clock)


@pytest.fixture
def runner(
    vault_path: Path, manual_clock: ManualClock, machine_keyring: MachineKeyring
) -> CliRunner:
    return CliRunner(vault_path=vault_path, clock=manual_clock)


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[LoopbackBank]:
    with running_bank() as running:
        running.write_install_config(tmp_path / "install.json")
        yield running


def _setup(runner: CliRunner, bank: LoopbackBank, tmp_path: Path, *extra: str) -> Result:
    issue = bank.issue(ACTIVATION_PASSWORD)
    return runner(
        "setup",
        "--service-id",
        bank.service_id,
        "--user-id",
        issue.user_id,
        "--bank-config",
        str(tmp_path / "install.json"),
        "--password-stdin",
        "--pin-stdin",
        *extra,
        stdin=f"{ACTIVATION_PASSWORD}\n{PIN}\n",
    )


def _real_now(runner: CliRunner) -> None:
    """The bank and the protocol client use the real clock; codes must match it."""
    import time

    runner.clock.now = time.time()


# --- the happy path --------------------------------------------------------------------------


def test_setup_then_code_gives_the_code_the_bank_accepts(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    _real_now(runner)
    result = _setup(runner, bank, tmp_path, "--label", "JAネットバンク")
    assert result.exit_code == cli.EXIT_OK, result.stderr
    assert "トークンを設定しました（JAネットバンク）" in result.stdout
    [user_id] = bank.issues
    assert bank.issues[user_id].state == "activated"

    code = runner("code", "--pin-stdin", stdin=PIN + "\n")
    assert code.exit_code == cli.EXIT_OK
    shown = code.stdout.strip()
    assert len(shown) == 6
    assert shown.isdigit()
    assert bank.verify(user_id, shown, runner.clock())
    assert "あと" in code.stderr


def test_setup_and_code_in_json(runner: CliRunner, bank: LoopbackBank, tmp_path: Path) -> None:
    _real_now(runner)
    result = _setup(runner, bank, tmp_path, "--json")
    assert result.exit_code == 0
    data = result.json()
    assert data["ok"] is True
    assert data["command"] == "setup"
    assert data["token"]["label"] == "テスト銀行"
    assert data["token"]["service_id"] == bank.service_id
    assert data["clock_skew_warning"] is False
    assert data["device_secret"] == "keyring"
    assert "seed" not in json.dumps(data)
    # stdout is one JSON object; stderr carries only the --bank-config warning
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("警告:")

    code = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n").json()
    assert code["ok"] is True
    assert code["label"] == "テスト銀行"
    assert bank.verify(data["token"]["user_id"], code["code"], runner.clock())
    assert 0 < code["seconds_left"] <= 30
    assert code["period"] == 30


def test_second_setup_adds_a_token_with_a_unique_label(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    assert _setup(runner, bank, tmp_path).exit_code == 0
    assert _setup(runner, bank, tmp_path).exit_code == 0
    listing = runner("list", "--json", "--pin-stdin", stdin=PIN + "\n").json()
    assert [t["label"] for t in listing["tokens"]] == ["テスト銀行", "テスト銀行 (2)"]
    several = runner("code", "--pin-stdin", stdin=PIN + "\n")
    assert several.exit_code == cli.EXIT_USAGE
    assert "テスト銀行 (2)" in several.stderr
    one = runner("code", "--token", "テスト銀行 (2)", "--json", "--pin-stdin", stdin=PIN + "\n")
    assert one.json()["label"] == "テスト銀行 (2)"


def test_prompted_pin_must_be_typed_twice_alike(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    issue = bank.issue(ACTIVATION_PASSWORD)
    args = (
        "setup",
        "--service-id",
        bank.service_id,
        "--user-id",
        issue.user_id,
        "--bank-config",
        str(tmp_path / "install.json"),
    )
    mismatch = runner(*args, answers=(ACTIVATION_PASSWORD, "4821", "4822"))
    assert mismatch.exit_code == cli.EXIT_USAGE
    assert "暗証番号が一致しません" in mismatch.stderr
    assert not runner.vault_path.exists()
    assert bank.requests == 0  # nothing was sent before the app lock was settled
    ok = runner(*args, answers=(ACTIVATION_PASSWORD, "4821", "4821"))
    assert ok.exit_code == cli.EXIT_OK
    assert runner("list", answers=("4821",)).exit_code == 0


def test_list_remove_and_change_pin(runner: CliRunner, bank: LoopbackBank, tmp_path: Path) -> None:
    _setup(runner, bank, tmp_path, "--label", "A")
    _setup(runner, bank, tmp_path, "--label", "B")
    listing = runner("list", "--pin-stdin", stdin=PIN + "\n")
    assert listing.exit_code == 0
    assert listing.stdout.splitlines()[0].startswith("A\t")

    needs_yes = runner("remove", "--token", "A", "--json", "--pin-stdin", stdin=PIN + "\n")
    assert needs_yes.exit_code == cli.EXIT_USAGE
    assert needs_yes.json()["error"]["code"] == "confirm_needs_yes"
    declined = runner("remove", "--token", "A", "--pin-stdin", stdin=PIN + "\n", answers=("n",))
    assert declined.exit_code == 0
    assert "中止しました" in declined.stdout
    removed = runner("remove", "--token", "A", "--yes", "--json", "--pin-stdin", stdin=PIN + "\n")
    assert removed.json() == {"ok": True, "command": "remove", "removed": "A"}
    missing = runner("remove", "--token", "A", "--yes", "--pin-stdin", stdin=PIN + "\n")
    assert missing.exit_code == cli.EXIT_NOT_FOUND

    changed = runner("pin", "--pin-stdin", stdin=f"{PIN}\n13572468\n")
    assert changed.exit_code == 0
    assert runner("list", "--pin-stdin", stdin=PIN + "\n").exit_code == cli.EXIT_LOCKED
    after = runner("list", "--json", "--pin-stdin", stdin="13572468\n").json()
    assert [t["label"] for t in after["tokens"]] == ["B"]


# --- the app lock ----------------------------------------------------------------------------


def _vault_with_token(runner: CliRunner, **changes: Any) -> None:
    from dataclasses import replace

    runner.vault().create(PIN, [replace(make_token(), **changes)])


def test_wrong_pin_exits_3_and_says_nothing_else(runner: CliRunner) -> None:
    _vault_with_token(runner, label="秘密の口座")
    result = runner("code", "--json", "--pin-stdin", stdin="0000\n")
    assert result.exit_code == cli.EXIT_LOCKED
    error = result.json()["error"]
    assert error["code"] == "wrong_pin"
    assert error["attempts_left"] == 9
    assert "秘密の口座" not in result.stdout
    assert "394817265043" not in result.stdout
    human = runner("code", "--pin-stdin", stdin="0000\n")
    assert human.stderr.strip() == "暗証番号が正しくありません。"
    assert human.stdout == ""


def test_wrong_pins_make_the_cli_wait_then_wipe_after_ten(
    runner: CliRunner, machine_keyring: MachineKeyring
) -> None:
    from netbank.token_app.vault import failure_delay

    _vault_with_token(runner)
    warned = []
    for attempt in range(1, 10):
        result = runner("code", "--json", "--pin-stdin", stdin="0000\n")
        error = result.json()["error"]
        assert result.exit_code == cli.EXIT_LOCKED
        assert error["attempts_left"] == 10 - attempt
        assert error["retry_in_seconds"] == failure_delay(attempt)
        warned.append("消去" in error["message"])
        if failure_delay(attempt):
            early = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n")
            assert early.json()["error"]["code"] == "pin_delay"
            runner.clock.advance(failure_delay(attempt))
    assert warned == [False] * 6 + [True] * 3
    # The last-try warning comes before the PIN is even asked for.
    last = runner("code", "--pin-stdin", stdin="0000\n")
    assert "あと1回間違えると" in last.stderr
    assert "消去しました" in last.stderr
    assert last.exit_code == cli.EXIT_LOCKED
    assert not runner.vault_path.exists()
    assert machine_keyring.entries() == 0
    assert runner("code", "--pin-stdin", stdin=PIN + "\n").exit_code == cli.EXIT_NOT_FOUND


def test_malformed_pin_is_a_usage_error(runner: CliRunner) -> None:
    _vault_with_token(runner)
    result = runner("code", "--pin-stdin", stdin="12\n")
    assert result.exit_code == cli.EXIT_USAGE
    assert "4～8桁" in result.stderr
    assert runner.vault().status().failures == 0


def test_tampered_vault_exits_6_before_asking_for_a_pin(runner: CliRunner) -> None:
    _vault_with_token(runner)
    doc = json.loads(runner.vault_path.read_text())
    doc["lock"]["failures"] = 0
    doc["ciphertext"] = doc["ciphertext"][:-8] + "AAAAAAA="
    runner.vault_path.write_text(json.dumps(doc))
    result = runner("code", "--json", answers=())  # no PIN available: must not be needed
    assert result.exit_code == cli.EXIT_VAULT_REFUSED
    assert result.json()["error"]["code"] == "vault_tampered"


def test_vault_copied_to_another_machine_exits_6(runner: CliRunner, tmp_path: Path) -> None:
    import keyring

    _vault_with_token(runner)
    copy = tmp_path / "other" / "vault.json"
    copy.parent.mkdir()
    shutil.copy2(runner.vault_path, copy)
    previous = keyring.get_keyring()
    keyring.set_keyring(MachineKeyring())
    try:
        other = CliRunner(vault_path=copy, clock=runner.clock)
        result = other("code", "--json", "--pin-stdin", stdin=PIN + "\n")
    finally:
        keyring.set_keyring(previous)
    assert result.exit_code == cli.EXIT_VAULT_REFUSED
    assert result.json()["error"]["code"] == "device_secret_missing"


def test_keyring_vault_without_a_usable_keyring_says_so(runner: CliRunner) -> None:
    import keyring
    from keyring.backends import fail

    _vault_with_token(runner)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        result = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n")
    finally:
        keyring.set_keyring(previous)
    assert result.exit_code == cli.EXIT_VAULT_REFUSED
    error = result.json()["error"]
    assert error["code"] == "keyring_unavailable"
    assert "キーリング" in error["message"]


def test_no_vault_and_unknown_token_exit_5(runner: CliRunner) -> None:
    result = runner("code", "--json")
    assert result.exit_code == cli.EXIT_NOT_FOUND
    assert result.json()["error"]["code"] == "vault_not_found"
    _vault_with_token(runner)
    unknown = runner("code", "--token", "nope", "--pin-stdin", stdin=PIN + "\n")
    assert unknown.exit_code == cli.EXIT_NOT_FOUND
    assert "「nope」というトークンはありません" in unknown.stderr


@pytest.mark.parametrize(("offset", "warned"), [(16.0, True), (-16.0, True), (14.0, False)])
def test_code_warns_when_the_clock_is_more_than_15_seconds_off(
    runner: CliRunner, offset: float, warned: bool
) -> None:
    _vault_with_token(runner, server_time_offset=offset)
    result = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n")
    assert result.json()["clock_skew_warning"] is warned
    human = runner("code", "--pin-stdin", stdin=PIN + "\n")
    assert ("端末の日付と時刻を正しく設定してください" in human.stderr) is warned


@pytest.mark.parametrize(
    ("offset", "words"), [(-40.0, "40秒進んでいます"), (40.0, "40秒遅れています")]
)
def test_the_clock_warning_says_whether_the_device_is_ahead_or_behind(
    runner: CliRunner, offset: float, words: str
) -> None:
    # server_time_offset is the bank's clock minus the device's: -40 is a device 40 s fast.
    _vault_with_token(runner, server_time_offset=offset)
    human = runner("code", "--pin-stdin", stdin=PIN + "\n")
    assert words in human.stderr
    assert "-40" not in human.stderr


def test_code_warns_when_the_device_clock_is_set_wrong_after_setup(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    _real_now(runner)
    assert _setup(runner, bank, tmp_path).exit_code == 0
    first = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n").json()
    assert first["clock_skew_warning"] is False
    # The customer sets the device clock 40 s forward; time itself goes on by 5 s.
    runner.clock.advance(45)
    runner.clock_set_forward += 40
    moved = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n").json()
    assert moved["clock_skew_warning"] is True
    assert -41 <= moved["clock_skew_seconds"] <= -39
    # The offset measured at setup is good to about a second.
    warned = runner("code", "--pin-stdin", stdin=PIN + "\n").stderr
    assert re.search(r"銀行の時刻より(39|40|41)秒進んでいます", warned), warned
    # Set right again: no warning.
    runner.clock.advance(-40)
    runner.clock_set_forward -= 40
    back = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n").json()
    assert back["clock_skew_warning"] is False


# --- the bank misbehaving ------------------------------------------------------------------


@pytest.mark.parametrize("had_vault", [False, True])
def test_unreachable_bank_exits_4_and_leaves_the_vault_as_it_was(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path, had_vault: bool
) -> None:
    config_path = tmp_path / "install.json"
    config = json.loads(config_path.read_text())
    config["bank_url"] = unused_loopback_url()
    config_path.write_text(json.dumps(config))
    if had_vault:
        _vault_with_token(runner)
    before = runner.vault_path.read_bytes() if had_vault else None
    result = _setup(runner, bank, tmp_path, "--json")
    assert result.exit_code == cli.EXIT_SERVER
    error = result.json()["error"]
    assert error["code"] == "server_unreachable"
    assert "銀行に接続できませんでした" in error["message"]
    if had_vault:
        assert runner.vault_path.read_bytes() == before
    else:
        assert not runner.vault_path.exists()
        assert not runner.vault_path.with_name("vault.device-secret").exists()


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("garbage", "server_unreachable"),
        ("server_error", "server_unreachable"),
        ("html_error", "server_unreachable"),
        ("wrong_signature", "untrusted_answer"),
    ],
)
def test_bad_answers_exit_4_and_store_nothing(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path, mode: str, code: str
) -> None:
    _vault_with_token(runner)
    before = runner.vault_path.read_bytes()
    bank.mode = mode
    result = _setup(runner, bank, tmp_path)
    assert result.exit_code == cli.EXIT_SERVER
    assert runner.vault_path.read_bytes() == before
    as_json = _setup(runner, bank, tmp_path, "--json")
    assert as_json.json()["error"]["code"] == code
    if mode == "wrong_signature":
        assert "正規のアプリと接続先" in result.stderr
        assert "保存していません" in result.stderr
    else:
        assert "銀行" in result.stderr
    opened = runner.vault().unlock(PIN)
    assert [t.label for t in opened.tokens] == ["JAネットバンク"]


def test_wrong_activation_password_exits_7_with_what_to_do(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    issue = bank.issue(ACTIVATION_PASSWORD)
    args = (
        "setup",
        "--service-id",
        bank.service_id,
        "--user-id",
        issue.user_id,
        "--bank-config",
        str(tmp_path / "install.json"),
        "--password-stdin",
        "--pin-stdin",
    )
    for _ in range(5):
        result = runner(*args, stdin=f"1111\n{PIN}\n")
        assert result.exit_code == cli.EXIT_REFUSED
        assert "5回間違えると" in result.stderr
        assert "ヘルプデスク" in result.stderr
        assert not runner.vault_path.exists()
    assert issue.state == "voided"
    # Even the right password cannot revive a voided issue.
    late = runner(*args, "--json", stdin=f"{ACTIVATION_PASSWORD}\n{PIN}\n")
    assert late.exit_code == cli.EXIT_REFUSED
    assert late.json()["error"]["code"] == "activation_failed"


def test_setup_with_a_bank_clock_far_off_warns(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    bank.clock_ahead = 120
    result = _setup(runner, bank, tmp_path)
    assert result.exit_code == 0
    assert "秒遅れています" in result.stderr  # the device is behind the bank
    data = runner("code", "--json", "--pin-stdin", stdin=PIN + "\n").json()
    assert data["clock_skew_warning"] is True
    assert 118 <= data["clock_skew_seconds"] <= 121


# --- Directログイン ---------------------------------------------------------------------------


def _logged_in_setup(runner: CliRunner, bank: LoopbackBank, tmp_path: Path) -> str:
    _real_now(runner)
    assert _setup(runner, bank, tmp_path).exit_code == 0
    [user_id] = bank.issues
    bank.account("yamada", "Hatake-2024", user_id)
    return user_id


def test_direct_login_opens_the_bank_in_the_browser(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path, launch_dir: Path
) -> None:
    _logged_in_setup(runner, bank, tmp_path)
    result = runner(
        "login",
        "--login-id",
        "yamada",
        "--password-stdin",
        "--pin-stdin",
        stdin=f"Hatake-2024\n{PIN}\n",
    )
    assert result.exit_code == cli.EXIT_OK, result.stderr
    assert "ブラウザでネットバンクを開きました" in result.stdout
    assert bank.logins == ["yamada"]
    [url] = runner.opened_urls
    [ticket] = bank.tickets
    # The browser gets a local page's path; the ticket is in the page, not in the URL.
    assert url.startswith("file:///")
    assert ticket not in url
    assert ticket not in result.stdout  # a single-use secret is not left in the scrollback
    page = Path(url.removeprefix("file://"))
    assert page.parent == launch_dir
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(launch_dir.stat().st_mode) == 0o700
    form = page.read_text()
    assert f'action="{bank.base_url}/login/direct/open/"' in form
    assert f'name="t" value="{ticket}"' in form
    assert 'method="post"' in form


def test_direct_login_page_is_deleted_by_a_later_run(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path, launch_dir: Path
) -> None:
    _logged_in_setup(runner, bank, tmp_path)
    login = ("login", "--login-id", "yamada", "--password-stdin", "--pin-stdin")
    assert runner(*login, stdin=f"Hatake-2024\n{PIN}\n").exit_code == cli.EXIT_OK
    [page] = list(launch_dir.iterdir())
    assert runner("list", "--pin-stdin", stdin=PIN + "\n").exit_code == cli.EXIT_OK
    assert page.exists()  # the browser may still be reading it
    old = time.time() - 61  # the ticket in it has expired
    os.utime(page, (old, old))
    assert runner("list", "--pin-stdin", stdin=PIN + "\n").exit_code == cli.EXIT_OK
    assert not page.exists()


def test_direct_login_against_an_older_bank_never_starts_a_browser_on_the_url(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path, launch_dir: Path
) -> None:
    _logged_in_setup(runner, bank, tmp_path)
    bank.mode = "old_bank"
    result = runner(
        "login",
        "--login-id",
        "yamada",
        "--password-stdin",
        "--pin-stdin",
        stdin=f"Hatake-2024\n{PIN}\n",
    )
    assert result.exit_code == cli.EXIT_OK
    # A browser's argv would show the ticket: the URL is shown for the customer instead.
    assert runner.opened_urls == []
    assert bank.base_url + "/login/direct/?t=" + bank.tickets[0] in result.stdout


def test_direct_login_prints_the_url_where_there_is_no_browser(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    _logged_in_setup(runner, bank, tmp_path)
    runner.has_browser = False
    result = runner("login", "--pin-stdin", stdin=PIN + "\n", answers=("yamada", "Hatake-2024"))
    assert result.exit_code == cli.EXIT_OK
    assert "60秒以内" in result.stdout
    assert bank.base_url + "/login/direct/?t=" in result.stdout
    as_json = runner(
        "login",
        "--json",
        "--login-id",
        "yamada",
        "--password-stdin",
        "--pin-stdin",
        stdin=f"Hatake-2024\n{PIN}\n",
    )
    # The same 30-second step again: the bank refuses the replayed code.
    assert as_json.exit_code == cli.EXIT_REFUSED
    assert as_json.json()["error"]["code"] == "direct_login_failed"


def test_direct_login_with_a_wrong_password_exits_7(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    _logged_in_setup(runner, bank, tmp_path)
    result = runner(
        "login",
        "--login-id",
        "yamada",
        "--password-stdin",
        "--pin-stdin",
        stdin=f"wrong\n{PIN}\n",
    )
    assert result.exit_code == cli.EXIT_REFUSED
    assert "ログインできませんでした" in result.stderr
    assert runner.opened_urls == []


@pytest.mark.parametrize("mode", ["foreign_url", "garbage", "unreachable"])
def test_direct_login_never_opens_what_the_bank_did_not_send(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path, mode: str
) -> None:
    _logged_in_setup(runner, bank, tmp_path)
    if mode == "unreachable":
        dead = unused_loopback_url()
        runner.login_client_factory = lambda url: DirectLoginClient(dead)
    else:
        bank.mode = mode
    result = runner(
        "login",
        "--json",
        "--login-id",
        "yamada",
        "--password-stdin",
        "--pin-stdin",
        stdin=f"Hatake-2024\n{PIN}\n",
    )
    assert result.exit_code == cli.EXIT_SERVER
    assert result.json()["error"]["code"] in ("untrusted_answer", "server_unreachable")
    assert runner.opened_urls == []


# --- 取引認証 ---------------------------------------------------------------------------------

# docs/banking.md: 振込 50,000円 to 0005-123 普通 7654321, 取引番号 12345678.
# A 振込予約 of 50,000円 from 001-1234567 on 2026-12-10 to 0005-123 普通 7654321.
TRANSFER_QUESTION = (
    "1" + "0005123" + "1" + "7654321" + "000000050000" + "0011234567" + "20261210" + "12345678"
)


def _expected_signature(question: str) -> str:
    from netbank.oath import ocra
    from netbank.oath.txsign import ocra_key
    from netbank.token_app.signing import SUITE

    return ocra(SUITE, ocra_key(make_token().signing_key), question=question)


def test_sign_shows_the_operation_then_gives_the_code(runner: CliRunner) -> None:
    _vault_with_token(runner)
    grouped = " ".join(TRANSFER_QUESTION[i : i + 4] for i in range(0, 54, 4))
    result = runner("sign", "--question", grouped, "--pin-stdin", stdin=PIN + "\n", answers=("y",))
    assert result.exit_code == cli.EXIT_OK, result.stderr
    assert result.stdout.strip() == _expected_signature(TRANSFER_QUESTION)
    for shown in ("振込", "0005", "123", "普通", "7654321", "50,000円", "12345678"):
        assert shown in result.stderr
    # What §4 of the review asked for: the account paid from and the date are shown.
    assert "支払口座（支店-口座番号）: 001-1234567" in result.stderr
    assert "振込指定日: 2026年12月10日（振込予約）" in result.stderr


def test_sign_declined_gives_no_code(runner: CliRunner) -> None:
    _vault_with_token(runner)
    result = runner(
        "sign", "--question", TRANSFER_QUESTION, "--pin-stdin", stdin=PIN + "\n", answers=("n",)
    )
    assert result.exit_code == cli.EXIT_OK
    assert _expected_signature(TRANSFER_QUESTION) not in result.stdout + result.stderr
    assert "中止しました" in result.stdout


def test_sign_json_needs_yes_and_reports_the_operation(runner: CliRunner) -> None:
    _vault_with_token(runner)
    refused = runner("sign", "--question", TRANSFER_QUESTION, "--json")
    assert refused.exit_code == cli.EXIT_USAGE
    assert refused.json()["error"]["code"] == "confirm_needs_yes"
    data = runner(
        "sign", "--question", TRANSFER_QUESTION, "--yes", "--json", "--pin-stdin", stdin=PIN + "\n"
    ).json()
    assert data["code"] == _expected_signature(TRANSFER_QUESTION)
    assert data["operation"] == {
        "purpose": "1",
        "purpose_label": "振込",
        "bank_code": "0005",
        "branch_code": "123",
        "account_type": "1",
        "account_type_label": "普通",
        "account_number": "7654321",
        "amount": 50000,
        "debit_branch_code": "001",
        "debit_account_number": "1234567",
        "scheduled_for": "2026-12-10",
        "nonce": "12345678",
    }


def test_sign_fetches_the_pending_question_from_the_bank(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    user_id = _logged_in_setup(runner, bank, tmp_path)
    args = ("sign", "--fetch", "--yes", "--json", "--pin-stdin")
    nothing = runner(*args, stdin=PIN + "\n")
    assert nothing.exit_code == cli.EXIT_NOT_FOUND
    assert nothing.json()["error"]["code"] == "nothing_pending"

    bank.pending[user_id] = TRANSFER_QUESTION
    data = runner(*args, stdin=PIN + "\n").json()
    assert data["operation"]["amount"] == 50000
    assert data["operation"]["account_number"] == "7654321"
    from netbank.oath import ocra
    from netbank.oath.txsign import ocra_key
    from netbank.token_app.signing import SUITE

    key = bank.issues[user_id].signing_key
    assert data["code"] == ocra(SUITE, ocra_key(key), question=TRANSFER_QUESTION)

    # A question outside the bank's own format is never signed, whoever sent it.
    bank.mode = "bad_question"
    bad = runner(*args, stdin=PIN + "\n")
    assert bad.exit_code == cli.EXIT_SERVER
    assert "code" not in bad.json()


def test_sign_fetch_with_a_key_the_bank_does_not_know_is_refused(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    _real_now(runner)
    from dataclasses import replace

    with running_bank() as other:  # the token belongs to this bank, the request goes elsewhere
        issue = bank.issue(ACTIVATION_PASSWORD)
        other.issues[issue.user_id] = replace(issue, state="activated", signing_key=bytes(32))
        runner.vault().create(
            PIN, [replace(make_token(user_id=issue.user_id), bank_url=other.base_url)]
        )
        result = runner("sign", "--fetch", "--yes", "--json", "--pin-stdin", stdin=PIN + "\n")
    assert result.exit_code == cli.EXIT_REFUSED
    assert result.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "question",
    [
        "1" * 35,  # too short
        "9" + TRANSFER_QUESTION[1:],  # unknown purpose
        "3" + TRANSFER_QUESTION[1:],  # a limit question that names a payee
        "200051231765432100000005000012345678",  # a payee registration with an amount
        TRANSFER_QUESTION[:-1] + "x",
    ],
)
def test_sign_refuses_questions_outside_the_banks_format_before_any_pin(
    runner: CliRunner, question: str
) -> None:
    _vault_with_token(runner)
    result = runner("sign", "--question", question, "--yes", "--json")
    assert result.exit_code == cli.EXIT_USAGE
    assert result.json()["error"]["code"] == "invalid_question"
    assert runner.vault().status().failures == 0


# --- usage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (("setup", "--service-id", "100001"), "--user-id"),
        (("setup", "--service-id", "100001", "--user-id", "12345"), "12桁"),
        (("setup", "--service-id", "銀行", "--user-id", "123456789012"), "サービスID"),
        (("frobnicate",), "frobnicate"),
    ],
)
def test_usage_errors_exit_2_in_plain_words(
    runner: CliRunner, argv: tuple[str, ...], text: str
) -> None:
    result = runner(*argv)
    assert result.exit_code == cli.EXIT_USAGE
    assert text in result.stderr
    as_json = runner(*argv, "--json")
    assert as_json.exit_code == cli.EXIT_USAGE
    assert as_json.json()["ok"] is False


def test_service_id_of_another_bank_is_refused_before_anything_is_sent(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    issue = bank.issue(ACTIVATION_PASSWORD)
    result = runner(
        "setup",
        "--service-id",
        "999999",
        "--user-id",
        issue.user_id,
        "--bank-config",
        str(tmp_path / "install.json"),
        "--password-stdin",
        "--pin-stdin",
        stdin=f"{ACTIVATION_PASSWORD}\n{PIN}\n",
    )
    assert result.exit_code == cli.EXIT_USAGE
    assert "サービスID 100001" in result.stderr
    assert bank.requests == 0
    assert not runner.vault_path.exists()


def test_bad_activation_password_format_is_refused_before_anything_is_sent(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    issue = bank.issue(ACTIVATION_PASSWORD)
    result = runner(
        "setup",
        "--service-id",
        bank.service_id,
        "--user-id",
        issue.user_id,
        "--bank-config",
        str(tmp_path / "install.json"),
        "--password-stdin",
        stdin="12ab\n",
    )
    assert result.exit_code == cli.EXIT_USAGE
    assert "4～8桁" in result.stderr
    assert bank.requests == 0


def test_missing_install_configuration_exits_5(runner: CliRunner, tmp_path: Path) -> None:
    result = runner(
        "setup",
        "--service-id",
        "100001",
        "--user-id",
        "123456789012",
        "--bank-config",
        str(tmp_path / "absent.json"),
        "--json",
    )
    assert result.exit_code == cli.EXIT_NOT_FOUND
    assert result.json()["error"]["code"] == "install_config_missing"


def test_messages_switch_to_english_by_flag_or_locale(runner: CliRunner) -> None:
    by_flag = runner("code", "--lang", "en")
    assert "No token is set up on this device yet" in by_flag.stderr
    runner.environ = {"LANG": "en_US.UTF-8"}
    assert "No token is set up" in runner("code").stderr
    runner.environ = {"LANG": "C.UTF-8"}
    assert "まだトークンが設定されていません" in runner("code").stderr


# --- as a program ----------------------------------------------------------------------------


def test_the_token_app_never_imports_django() -> None:
    code = (
        "import sys, netbank.token_app.cli, netbank.token_app.tui, netbank.token_app.client, "
        "netbank.token_app.timecheck; print(sorted(m for m in sys.modules if m.startswith('django')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[]"


def test_console_script_exit_codes_from_a_fresh_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "NETBANK_TOKEN_HOME": str(tmp_path / "home"),
        "NETBANK_TOKEN_NO_KEYRING": "1",
        "LANG": "C.UTF-8",
    }
    command = [sys.executable, "-m", "netbank.token_app.cli"]
    missing = subprocess.run(
        [*command, "code", "--json"], capture_output=True, text=True, env=env, check=False
    )
    assert missing.returncode == cli.EXIT_NOT_FOUND
    assert json.loads(missing.stdout)["error"]["code"] == "vault_not_found"

    monkeypatch.setenv("NETBANK_TOKEN_NO_KEYRING", "1")
    # No keyring: the PIN is 8 digits.
    Vault(tmp_path / "home" / "vault.json", kdf=CHEAP_KDF).create(FILE_PIN, [make_token()])
    ok = subprocess.run(
        [*command, "code", "--pin-stdin"],
        input=FILE_PIN + "\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == cli.EXIT_OK, ok.stderr
    assert ok.stdout.strip().isdigit()
    wrong = subprocess.run(
        [*command, "code", "--pin-stdin"],
        input="0000\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert wrong.returncode == cli.EXIT_LOCKED
    assert "暗証番号が正しくありません" in wrong.stderr


# --- the bank's key: fingerprint, expiry, development sources ---------------------------------


def test_setup_shows_the_fingerprint_to_compare_with_the_mail(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    _real_now(runner)
    result = _setup(runner, bank, tmp_path)
    assert result.exit_code == cli.EXIT_OK, result.stderr
    fingerprint = key_fingerprint(bank.public_key_text())
    assert f"銀行の署名鍵の指紋: {fingerprint}" in result.stdout
    assert "トークン発行のメール" in result.stdout
    # shown before the password is asked for, so the customer can stop in time
    assert result.stdout.index(fingerprint) < result.stdout.index("トークンを設定しました")


def test_bank_config_option_and_variable_warn_that_they_are_for_development(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    _real_now(runner)
    result = _setup(runner, bank, tmp_path, "--json")
    assert result.exit_code == cli.EXIT_OK
    assert "警告: 銀行の設定ファイルを --bank-config から読み込んでいます" in result.stderr
    assert "開発・試験用" in result.stderr
    data = result.json()["install_config"]
    assert data["source"] == "--bank-config"
    assert data["development_only"] is True
    assert data["bank_keys"][0]["fingerprint"] == key_fingerprint(bank.public_key_text())

    issue = bank.issue(ACTIVATION_PASSWORD)
    runner.environ["NETBANK_TOKEN_INSTALL_CONFIG"] = str(tmp_path / "install.json")
    by_env = runner(
        "setup",
        "--service-id",
        bank.service_id,
        "--user-id",
        issue.user_id,
        "--password-stdin",
        "--pin-stdin",
        "--lang",
        "en",
        stdin=f"{ACTIVATION_PASSWORD}\n{PIN}\n",
    )
    assert by_env.exit_code == cli.EXIT_OK, by_env.stderr
    assert "WARNING: the bank's install configuration comes from" in by_env.stderr
    assert "NETBANK_TOKEN_INSTALL_CONFIG" in by_env.stderr


def test_the_shipped_configuration_is_the_default_and_does_not_warn(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "package" / "install.json"
    bank.write_install_config(shipped)
    monkeypatch.setattr(cli, "shipped_install_config_path", lambda: shipped)
    downloaded = tmp_path / "home"
    runner.environ["NETBANK_TOKEN_HOME"] = str(downloaded)
    monkeypatch.setenv("NETBANK_TOKEN_HOME", str(downloaded))
    assert cli.install_config_source(None, runner.environ) == (shipped, cli.SOURCE_SHIPPED)
    _real_now(runner)
    issue = bank.issue(ACTIVATION_PASSWORD)
    result = runner(
        "setup",
        "--service-id",
        bank.service_id,
        "--user-id",
        issue.user_id,
        "--password-stdin",
        "--pin-stdin",
        "--json",
        stdin=f"{ACTIVATION_PASSWORD}\n{PIN}\n",
    )
    assert result.exit_code == cli.EXIT_OK, result.stderr
    assert result.stderr == ""
    assert result.json()["install_config"]["source"] == "shipped"
    assert result.json()["install_config"]["development_only"] is False
    monkeypatch.setattr(cli, "shipped_install_config_path", lambda: tmp_path / "absent.json")
    assert cli.install_config_source(None, runner.environ)[1] == cli.SOURCE_DOWNLOADED


def test_setup_refuses_an_expired_bank_key_before_asking_for_the_password(
    runner: CliRunner, bank: LoopbackBank, tmp_path: Path
) -> None:
    bank.key_not_after = int(runner.clock()) - 1
    bank.write_install_config(tmp_path / "install.json")
    issue = bank.issue(ACTIVATION_PASSWORD)
    result = runner(
        "setup",
        "--service-id",
        bank.service_id,
        "--user-id",
        issue.user_id,
        "--bank-config",
        str(tmp_path / "install.json"),
        "--json",
    )
    assert result.exit_code == cli.EXIT_USAGE
    assert result.json()["error"]["code"] == "bank_key_expired"
    assert bank.requests == 0


# A browser that records what it was started with: its argv, its /proc/<pid>/cmdline, and
# the page it was given (read at once, as a browser would).
_RECORDING_BROWSER = """#!/bin/sh
printf '%s\\n' "$@" > "$RECORD_DIR/argv"
cat /proc/$$/cmdline > "$RECORD_DIR/cmdline"
cat "${1#file://}" > "$RECORD_DIR/page"
"""


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_direct_login_ticket_appears_on_no_command_line(
    tmp_path: Path, bank: LoopbackBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real launcher (webbrowser, $BROWSER) in a fresh process: while it runs, no
    process's command line holds the ticket, and the browser is given only a file path."""
    import dataclasses
    import threading

    pin = FILE_PIN
    home = tmp_path / "home"
    record = tmp_path / "record"
    record.mkdir()
    browser = tmp_path / "browser.sh"
    browser.write_text(_RECORDING_BROWSER)
    browser.chmod(0o700)
    issue = bank.issue(ACTIVATION_PASSWORD)
    issue.state, issue.seed = "activated", bytes(range(20))
    bank.account("yamada", "Hatake-2024", issue.user_id)
    token = dataclasses.replace(make_token(user_id=issue.user_id), bank_url=bank.base_url)
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "NETBANK_TOKEN_HOME": str(home),
        "NETBANK_TOKEN_SECRET_DIR": str(tmp_path / "secret"),
        "NETBANK_TOKEN_NO_KEYRING": "1",
        "BROWSER": str(browser),
        "RECORD_DIR": str(record),
        "LANG": "C.UTF-8",
    }
    for name in ("NETBANK_TOKEN_HOME", "NETBANK_TOKEN_SECRET_DIR", "NETBANK_TOKEN_NO_KEYRING"):
        monkeypatch.setenv(name, env[name])
    Vault(home / "vault.json", kdf=CHEAP_KDF).create(pin, [token])

    seen: list[bytes] = []
    done = threading.Event()

    def watch() -> None:  # every process's command line, as `ps` shows it to anyone
        while not done.is_set():
            for proc in Path("/proc").iterdir():
                if proc.name.isdigit():
                    with contextlib.suppress(OSError):  # gone meanwhile
                        seen.append((proc / "cmdline").read_bytes())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "netbank.token_app.cli",
                "login",
                "--login-id",
                "yamada",
                "--password-stdin",
                "--pin-stdin",
            ],
            input=f"Hatake-2024\n{pin}\n",
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
    finally:
        done.set()
        watcher.join()
    assert child.returncode == cli.EXIT_OK, child.stderr
    [ticket] = bank.tickets
    argv = (record / "argv").read_text().split("\n")
    assert argv[0].startswith("file:///")
    assert ticket not in (record / "argv").read_text()
    cmdline = (record / "cmdline").read_bytes()
    assert str(browser).encode() in cmdline  # the browser's own /proc entry was read
    assert ticket.encode() not in cmdline
    assert any(b"netbank.token_app.cli" in line for line in seen)  # the watcher saw the run
    assert not [line for line in seen if ticket.encode() in line]
    assert ticket not in child.stdout + child.stderr
    # The browser got the ticket in the page it read, in a form posted to the bank.
    page = (record / "page").read_text()
    assert f'value="{ticket}"' in page
    assert f'action="{bank.base_url}/login/direct/open/"' in page


def test_setup_without_a_keyring_asks_for_8_digits_or_a_passphrase(
    runner: CliRunner,
    bank: LoopbackBank,
    tmp_path: Path,
    state_dir: Path,
    request: pytest.FixtureRequest,
) -> None:
    request.getfixturevalue("no_keyring")  # after the runner's machine keyring
    short = _setup_with_pin(runner, bank, tmp_path, PIN)
    assert short.exit_code == cli.EXIT_USAGE
    assert short.json()["error"]["code"] == "pin_too_weak"
    assert "8桁の数字か、12文字以上のパスフレーズ" in short.json()["error"]["message"]
    assert not runner.vault_path.exists()

    ok = _setup_with_pin(runner, bank, tmp_path, "田んぼの畦道 2026 spring")
    assert ok.exit_code == cli.EXIT_OK, ok.stdout
    assert runner.vault().unlock("田んぼの畦道 2026 spring").device_secret_kind == "file"
    assert list(state_dir.glob("*.device-secret"))
    assert not list(runner.vault_path.parent.glob("*secret*"))


def _setup_with_pin(runner: CliRunner, bank: LoopbackBank, tmp_path: Path, pin: str) -> Result:
    _real_now(runner)
    issue = bank.issue(ACTIVATION_PASSWORD)
    return runner(
        "setup",
        "--json",
        "--service-id",
        bank.service_id,
        "--user-id",
        issue.user_id,
        "--bank-config",
        str(tmp_path / "install.json"),
        "--password-stdin",
        "--pin-stdin",
        stdin=f"{ACTIVATION_PASSWORD}\n{pin}\n",
    )


def test_a_vault_without_a_keyring_under_a_short_pin_from_before_asks_for_a_change(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("no_keyring")  # after the runner's machine keyring
    from netbank.token_app import vault as vault_module

    with monkeypatch.context() as before:  # made when 4 digits were enough
        before.setattr(vault_module, "pin_check_new", lambda pin, kind: None)
        runner.vault().create(PIN, [make_token()])
    result = runner("code", "--pin-stdin", stdin=PIN + "\n")
    assert result.exit_code == cli.EXIT_OK
    assert "暗証番号を8桁の数字か12文字以上のパスフレーズに変更してください" in result.stderr
    refused = runner("pin", "--pin-stdin", "--json", stdin=f"{PIN}\n1234\n")
    assert refused.json()["error"]["code"] == "pin_too_weak"
    assert runner("pin", "--pin-stdin", stdin=f"{PIN}\n{FILE_PIN}\n").exit_code == cli.EXIT_OK
    again = runner("code", "--pin-stdin", stdin=FILE_PIN + "\n")
    assert again.exit_code == cli.EXIT_OK
    assert "変更してください" not in again.stderr
