"""``netbank metrics-server``: a private address only, the node's directories, a clean
stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from netbank.ops.exposition import BindError, parse_bind

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "bind",
    [
        "0.0.0.0:9108",  # every interface, the public one too
        "[::]:9108",
        "8.8.8.8:9108",
        "[2001:4860:4860::8888]:9108",
        "localhost:9108",  # a name could resolve anywhere
        "127.0.0.1",
        "127.0.0.1:http",
        "127.0.0.1:70000",
        "127.0.0.1:９１０８",
    ],
)
def test_a_public_wildcard_or_malformed_bind_is_refused(bind: str, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--bind"):
        call_command("metrics_server", "--bind", bind, "--dir", str(tmp_path))


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("127.0.0.1:9108", ("127.0.0.1", 9108)),
        ("10.1.2.3:9108", ("10.1.2.3", 9108)),
        ("192.168.0.5:9100", ("192.168.0.5", 9100)),
        ("[::1]:9108", ("::1", 9108)),
        ("[fd00::5]:9108", ("fd00::5", 9108)),
    ],
)
def test_a_loopback_or_private_bind_is_taken(bind: str, expected: tuple[str, int]) -> None:
    assert parse_bind(bind) == expected


def test_bind_error_says_why() -> None:
    with pytest.raises(BindError, match="loopback or private"):
        parse_bind("1.1.1.1:9108")


def test_without_a_directory_it_says_what_to_give(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(CommandError, match="--dir"):
        call_command("metrics_server", "--bind", "127.0.0.1:0")


@pytest.mark.django_db(transaction=True)
def test_the_command_serves_the_directories_and_stops_on_sigterm(tmp_path: Path) -> None:
    web, worker = tmp_path / "web", tmp_path / "worker"
    web.mkdir()
    worker.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings",
        "PYTHONPATH": str(ROOT / "src"),
        "NETBANK_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    # Processes of two services each record into their own directory.
    for directory, outcome in ((web, "sent"), (worker, "sent"), (worker, "failed")):
        subprocess.run(
            [sys.executable, "-c", f"from netbank.ops import metrics; metrics.mail({outcome!r})"],
            env={**env, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
            check=True,
            timeout=60,
        )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netbank.cli",
            "metrics-server",
            "--bind",
            "127.0.0.1:0",
            "--dir",
            str(web),
            "--dir",
            str(worker),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        assert line.startswith("metrics on 127.0.0.1:"), line + server.stderr.read()  # type: ignore[union-attr]
        port = int(line.split()[2].split(":")[1].split("/")[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
            text = r.read().decode()
        assert 'netbank_mails_total{outcome="sent"} 2.0' in text
        assert 'netbank_mails_total{outcome="failed"} 1.0' in text
        if connection.vendor == "postgresql":
            assert 'netbank_outbox_mails{state="pending"} 0.0' in text
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate(timeout=30)
