"""`netbank demo` as a user runs it: a real process, real ports, Ctrl-C to stop."""

from __future__ import annotations

import http.client
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

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
    assert len(list((data_dir / "mail").glob("*.eml"))) == 1

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
    assert f"http://127.0.0.1:{port}/" in out
    assert f"http://127.0.0.1:{port}/demo/mail/" in out
    assert str(data_dir / "mail") in out
    for login_id, password in (("demo0001", "sakura2026"), ("demo0002", "momiji2026")):
        assert login_id in out
        assert password in out
    assert "Demo stopped." in out
    assert "Traceback" not in err
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


def test_demo_refuses_a_busy_port_before_touching_the_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
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
    assert f"Port 127.0.0.1:{port}" in result.stderr
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
