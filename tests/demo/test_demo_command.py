"""`netbank demo` as a user runs it: a real process, real ports, Ctrl-C to stop."""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pyotp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import expect

from netbank.demo.mailcatcher import list_mail
from netbank.oath.activation import ed25519_public_text
from netbank.token_app.install_config import install_config_load
from tests.browser.test_passkeys import NO_CONDITIONAL_UI, VirtualAuthenticator

pytestmark = pytest.mark.slow

STARTUP_DEADLINE = 120.0  # migrations on a fresh SQLite file, on a busy 2-core machine
MAIL_DEADLINE = 30.0
STOP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    """A user's shell: production settings module, SQLite in a fresh data folder.

    Nothing from the test process leaks in (test settings, test keys, DATABASE_URL).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NETBANK_", "DJANGO_", "SMTP_"))
        and k not in {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    env["NETBANK_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "netbank.config.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _netbank(*args: str) -> list[str]:
    return [sys.executable, "-m", "netbank.cli", *args]


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _wait_until(predicate: object, deadline: float, proc: subprocess.Popen[str]) -> None:
    """Poll ``predicate`` (a callable) until it is true; fail if the demo died or time ran out."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"demo exited early ({proc.returncode}):\n{out}\n{err}")
        try:
            if predicate():  # type: ignore[operator]
                return
        except OSError:
            pass
        # Polling a real process and its socket: there is no event to wait on.
        time.sleep(0.25)
    pytest.fail("the demo did not get there before the deadline")


@pytest.fixture
def demo(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], int, int, Path]]:
    data_dir = tmp_path / "var"
    port, smtp_port = _free_port(), _free_port()
    command = _netbank("demo", "--port", str(port), "--smtp-port", str(smtp_port))
    if getattr(request, "param", "foreground") == "sigint_ignored":
        # How a shell starts a background job: SIGINT ignored, inherited across exec.
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    proc = subprocess.Popen(
        command,
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, port, smtp_port, data_dir
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_demo_starts_serves_the_bank_and_its_mail_and_stops_on_ctrl_c(
    demo: tuple[subprocess.Popen[str], int, int, Path],
) -> None:
    proc, port, smtp_port, data_dir = demo

    _wait_until(lambda: _get(port, "/")[0] == 200, STARTUP_DEADLINE, proc)

    status, login_page = _get(port, "/")
    assert status == 200
    assert "ログインID" in login_page
    assert "ログインパスワード" in login_page

    # A mail queued by the bank goes out through the demo's worker to its catcher.
    subprocess.run(
        _netbank(
            "shell",
            "-c",
            "from netbank.notifications.services import mail_enqueue; "
            "mail_enqueue(to='taro.yamada@example.jp', subject='【ネットバンク】デモのお知らせ', "
            "body='デモです。 http://127.0.0.1/app/', purpose='demo_test')",
        ),
        env=_env(data_dir),
        check=True,
        capture_output=True,
        timeout=60,
    )
    _wait_until(lambda: "デモのお知らせ" in _get(port, "/demo/mail/")[1], MAIL_DEADLINE, proc)
    # Exactly once, next to the notices the seed's OTP set-up for demo0002 sent.
    subjects = [mail.subject for mail in list_mail(data_dir / "mail")]
    assert subjects.count("【ネットバンク】デモのお知らせ") == 1

    # And anything else that speaks SMTP to the catcher lands there too.
    msg = EmailMessage()
    msg["From"] = "a@example.jp"
    msg["To"] = "b@example.jp"
    msg["Subject"] = "直接送ったメール"
    msg.set_content("本文\n")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)
    _wait_until(lambda: "直接送ったメール" in _get(port, "/demo/mail/")[1], MAIL_DEADLINE, proc)

    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=STOP_TIMEOUT)

    assert proc.returncode == 0, err
    assert f"http://localhost:{port}/" in out
    assert f"http://localhost:{port}/demo/mail/" in out
    assert str(data_dir / "mail") in out
    for login_id, password in (("demo0001", "sakura2026"), ("demo0002", "momiji2026")):
        assert login_id in out
        assert password in out
    assert "Demo stopped." in out
    assert "Traceback" not in err
    # Idle runs of the jobs ("executed 0" every minute) stay out of the console.
    assert "worker: run_scheduled_transfers" not in out + err
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=2),
    ):
        pass


@pytest.mark.parametrize(
    ("demo", "signum"),
    [("foreground", signal.SIGTERM), ("sigint_ignored", signal.SIGINT)],
    indirect=["demo"],
)
def test_demo_stops_cleanly_on_signal(
    demo: tuple[subprocess.Popen[str], int, int, Path], signum: signal.Signals
) -> None:
    proc, port, _smtp_port, _data_dir = demo
    _wait_until(lambda: _get(port, "/")[0] == 200, STARTUP_DEADLINE, proc)

    proc.send_signal(signum)
    out, err = proc.communicate(timeout=STOP_TIMEOUT)

    assert proc.returncode == 0, err
    assert "Demo stopped." in out
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("family", "host", "shown"),
    [
        pytest.param(socket.AF_INET, "127.0.0.1", "127.0.0.1", id="ipv4"),
        # The printed localhost may be tried on ::1 first: another program there would
        # answer in the bank's place, so the demo says so instead of starting.
        pytest.param(
            socket.AF_INET6,
            "::1",
            "[::1]",
            id="ipv6",
            marks=pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine"),
        ),
    ],
)
def test_demo_refuses_a_busy_port_before_touching_the_database(
    tmp_path: Path, family: socket.AddressFamily, host: str, shown: str
) -> None:
    data_dir = tmp_path / "var"
    with socket.socket(family, socket.SOCK_STREAM) as busy:
        if family == socket.AF_INET6:
            busy.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        busy.bind((host, _free_port()))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            _netbank("demo", "--port", str(port), "--smtp-port", str(_free_port())),
            env=_env(data_dir),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode != 0
    assert f"Port {shown}:{port}" in result.stderr
    assert "--port" in result.stderr
    assert "Migrating" not in result.stdout
    assert not (data_dir / "netbank.sqlite3").exists()


def test_demo_refuses_to_run_in_production(tmp_path: Path) -> None:
    env = _env(tmp_path / "var")
    env.update(
        NETBANK_ENV="production",
        SECRET_KEY="x" * 50,
        NETBANK_OTP_KEYS="k1:dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE=",
    )

    result = subprocess.run(
        _netbank("demo", "--port", str(_free_port())),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "NETBANK_ENV=production" in result.stderr


# --- what the banner prints works against the running demo ---------------------------


class Browser:
    """Just enough of a browser for Django forms: cookies, the CSRF field, redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def submit(self, path: str, fields: dict[str, str]) -> tuple[str, str]:
        """GET the form page, then POST ``fields`` with its CSRF token; the final URL and page."""
        _url, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None, page[:500]
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token[1], **fields}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.geturl(), response.read().decode()
        except urllib.error.HTTPError as exc:  # a refused form answers 400
            return exc.geturl(), exc.read().decode()


def _start(data_dir: Path, log: Path) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    with log.open("w") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            _netbank("demo", "--port", str(port), "--smtp-port", str(_free_port())),
            env=_env(data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return proc, port


def _banner(proc: subprocess.Popen[str], log: Path) -> str:
    _wait_until(lambda: "Ctrl-C" in log.read_text("utf-8"), STARTUP_DEADLINE, proc)
    return log.read_text("utf-8")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        returncode = proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    assert returncode == 0


def _key(pattern: str, banner: str) -> str:
    found = re.search(pattern, banner, re.MULTILINE)
    assert found is not None, banner
    return found[1]


def _code(secret: str) -> str:
    # One step ahead: the seed's own confirmation may have used the current step, and
    # the bank accepts ±1 step but never a step twice.
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


def test_printed_keys_log_in_and_a_second_start_prints_the_same_without_seeding_again(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    proc, port = _start(data_dir, tmp_path / "first.log")
    try:
        first = _banner(proc, tmp_path / "first.log")
        base = f"http://localhost:{port}"
        otp_key = _key(r"鍵 / Key \(base32\)\s+([A-Z2-7]{32})$", first)
        operator_keys = {
            name: _key(rf"^\s+{name}\s+\S+\s+{role}\s+([A-Z2-7]{{32}})$", first)
            for name, role in (("operator01", "operator"), ("supervisor01", "supervisor"))
        }
        assert f"oathtool --totp -b {otp_key}" in first
        assert "otpauth://totp/" in first
        assert re.search(r"demo0001 .* 未設定 / not set up$", first, re.MULTILINE)
        assert re.search(r"demo0002 .* 利用中 / in use$", first, re.MULTILINE)
        # The background jobs are the worker's, each with its period.
        for label, every in (
            ("メール送信 / mail delivery", "1 s"),
            ("振込予約の実行 / scheduled transfers", "1 min"),
            ("監査チェックポイント / audit checkpoint", "5 min"),
            ("期限切れセッションの削除 / expired sessions", "60 min"),
            ("監査証跡の検証 / audit trail verification", "1 day"),
        ):
            assert re.search(rf"^\s+{re.escape(label)}\s+{every}$", first, re.MULTILINE), label

        # demo0002: ID and password lead to ワンタイムパスワード認証, the printed key passes it.
        browser = Browser(base)
        url, page = browser.submit("/", {"login_id": "demo0002", "password": "momiji2026"})
        assert url == f"{base}/login/otp/"
        assert "ワンタイムパスワード認証" in page
        url, page = browser.submit("/login/otp/", {"code": _code(otp_key)})
        assert url == f"{base}/top/"
        assert "佐藤 花子" in page

        # demo0001 has no OTP: straight to トップ.
        url, page = Browser(base).submit("/", {"login_id": "demo0001", "password": "sakura2026"})
        assert url == f"{base}/top/"

        # Both helpdesk accounts open the console with their printed keys.
        for name, password in (
            ("operator01", "demo-operator-2026"),
            ("supervisor01", "demo-supervisor-2026"),
        ):
            console = Browser(base)
            fields = {"username": name, "password": password, "code": _code(operator_keys[name])}
            url, page = console.submit("/helpdesk/login/", fields)
            assert url == f"{base}/helpdesk/", page[:500]

        # The token app's install configuration names this bank and its key.
        command = _key(r"^\s+(NETBANK_TOKEN_HOME=\S+ \S+netbank-token)$", first)
        home = data_dir / "token-app"
        assert command.startswith(f"NETBANK_TOKEN_HOME={home} ")
        config = install_config_load(home / "install.json")
        assert config.bank_url == base
        key_file = data_dir / "bank_signing_key.pem"
        private = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(private, Ed25519PrivateKey)
        assert config.bank_key.public_key == ed25519_public_text(private.public_key())
        assert stat.S_IMODE(home.stat().st_mode) == 0o700

        # The demo runs the worker on its SQLite database: a second worker is refused.
        second_worker = subprocess.run(
            _netbank("worker", "--once"),
            env=_env(data_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert second_worker.returncode == 1
        assert "only one worker may run" in second_worker.stderr
    finally:
        _stop(proc)
    assert (data_dir / "audit-checkpoints").is_dir()
    assert list((data_dir / "audit-checkpoints").glob("*.jsonl"))

    proc, port = _start(data_dir, tmp_path / "second.log")
    try:
        second = _banner(proc, tmp_path / "second.log")
    finally:
        _stop(proc)

    assert "created" not in second
    assert "re-enrolled" not in second
    assert "Wrote the bank signing key" not in second
    assert _key(r"鍵 / Key \(base32\)\s+([A-Z2-7]{32})$", second) == otp_key
    for name, key in operator_keys.items():
        assert re.search(rf"^\s+{name}\s+.*{key}$", second, re.MULTILINE)
    # The app follows the bank to its new port.
    assert install_config_load(data_dir / "token-app" / "install.json").bank_url == (
        f"http://localhost:{port}"
    )


# --- passkeys: the printed URL is a relying party a browser accepts --------------------


@pytest.mark.browser
def test_printed_urls_say_localhost_where_a_passkey_registers_and_logs_in(
    tmp_path: Path, browser: PlaywrightBrowser
) -> None:
    """Browsers refuse an IP address as a WebAuthn rpId: the demo names itself localhost,
    answers there on IPv4 and IPv6, and Chromium's virtual authenticator (a platform
    passkey with user verification) registers a passkey and logs in with it."""
    data_dir = tmp_path / "var"
    proc, port = _start(data_dir, tmp_path / "demo.log")
    try:
        banner = _banner(proc, tmp_path / "demo.log")
        base = f"http://localhost:{port}"
        for label, path in (("Bank login", "/"), ("Caught mail", "/demo/mail/")):
            assert re.search(rf"{label}\s+{re.escape(base + path)}$", banner, re.MULTILINE)
        assert re.search(rf"Helpdesk console\s+{re.escape(base)}/helpdesk/$", banner, re.M)
        assert f"127.0.0.1:{port}" not in banner  # the web server's IP is printed nowhere
        assert re.search(
            r"^\s+パスキーのチャレンジの整理 / passkey challenges\s+60 min$", banner, re.M
        )
        assert install_config_load(data_dir / "token-app" / "install.json").bank_url == base
        # localhost may mean ::1 first: the bank answers there, not another program.
        if socket.has_ipv6:
            ipv6 = http.client.HTTPConnection("::1", port, timeout=10)
            ipv6.request("GET", "/", headers={"Host": f"localhost:{port}"})
            assert ipv6.getresponse().status == 200
            ipv6.close()
        otp_key = _key(r"鍵 / Key \(base32\)\s+([A-Z2-7]{32})$", banner)

        context = browser.new_context(base_url=base, locale="ja-JP", timezone_id="Asia/Tokyo")
        context.set_default_timeout(15_000)
        page = context.new_page()
        authenticator = VirtualAuthenticator(page)  # ctap2, internal, resident key, UV
        page.add_init_script(NO_CONDITIONAL_UI)  # the login page's button, not autofill
        page.goto("/")
        page.get_by_label(re.compile(r"ログインID$")).fill("demo0002")
        page.get_by_label(re.compile(r"ログインパスワード$")).fill("momiji2026")
        page.get_by_role("button", name="ログイン", exact=True).click()
        now = int(time.time())
        login_step = (now + 30) // 30
        code = pyotp.TOTP(otp_key).at(now + 30)  # as _code(), with its step remembered
        page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(code)
        page.get_by_role("button", name="認証する", exact=True).click()
        expect(page).to_have_url(f"{base}/top/")

        page.locator("main").get_by_role("link", name="各種お申込・手続き").click()
        page.locator("main").get_by_role("link", name="パスキー", exact=True).click()
        page.locator("main").get_by_role("link", name="パスキーを登録する").click()
        page.get_by_label(re.compile(r"パスキーの名前$")).fill("デモのPC")
        # The bank takes each OTP step once, in order: the next one after the login's.
        while int(time.time()) // 30 < login_step:
            time.sleep(1)  # waiting for the clock: there is no event to wait on
        page.get_by_label(re.compile(r"ワンタイムパスワード$")).fill(_code(otp_key))
        page.get_by_label("ソフトウェアキーボードで入力する").uncheck()
        page.locator("#id_transaction_password").fill("kakunin02")
        page.locator("main button[type=submit]").first.click()
        page.get_by_role("button", name="パスキーを作成する").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("パスキーの登録（完了）")
        (credential,) = authenticator.credentials()
        assert credential["rpId"] == "localhost"

        # Log out, log in with the passkey alone: no password, no OTP.
        page.locator("header").get_by_role("button", name="ログアウト", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
        page.locator("main").get_by_role("button", name="パスキーでログイン", exact=True).click()
        expect(page).to_have_url(f"{base}/top/")
        expect(page.locator("main")).to_contain_text("佐藤 花子")
        context.close()

        # The registration notice reached the catcher, its links naming localhost too.
        def notice() -> str:
            bodies = [m.text_body() for m in list_mail(data_dir / "mail")]
            return next((b for b in bodies if "デモのPC" in b), "")

        _wait_until(lambda: notice() != "", MAIL_DEADLINE, proc)
        assert f"{base}/" in notice()
        assert "127.0.0.1" not in notice()
    finally:
        _stop(proc)
