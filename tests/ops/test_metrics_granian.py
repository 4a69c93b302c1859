"""The verification API under granian with two worker processes (PostgreSQL): each worker
writes its own multiprocess file, and the metrics server's total is every call made."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from netbank.otp.channels.services import channel_key_create
from tests.banking.factories import current_otp, customer_with_account, issue_token
from tests.ops.test_metrics_journey import metrics_server, scrape, value

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _verify(base: str, key: str, login_id: str, code: str) -> str:
    request = urllib.request.Request(  # noqa: S310
        f"{base}/api/v1/verify",
        data=json.dumps({"login_id": login_id, "otp": code}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.loads(response.read())["result"])


@pytest.fixture
def granian_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The API stack under granian (two workers) on this test database, recording into a
    multiprocess directory of its own."""
    directory = tmp_path / "prometheus-api"
    directory.mkdir()
    db = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "PYTHONPATH": str(ROOT / "src"),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    out = tmp_path / "granian.log"
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "netbank.config.wsgi_api:application",
    ]
    with out.open("w") as sink:
        child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=sink)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            # Until both workers have loaded the app (each makes its file at import).
            while len(list(directory.glob("counter_*.db"))) < 2:
                if time.monotonic() > deadline or child.poll() is not None:
                    pytest.fail("granian did not start: " + out.read_text()[-2000:])
                time.sleep(0.2)
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/v1/verify", timeout=5)  # noqa: S310
                except urllib.error.HTTPError as error:
                    error.close()
                    break  # it answers (405 for a GET)
                except (urllib.error.URLError, ConnectionError):
                    if time.monotonic() > deadline or child.poll() is not None:
                        pytest.fail("granian did not answer: " + out.read_text()[-2000:])
                    time.sleep(0.2)
            yield base, directory
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def test_every_worker_s_calls_are_in_the_total(granian_api: tuple[str, Path]) -> None:
    base, directory = granian_api
    key = channel_key_create(name="telephone").key
    customers = [customer_with_account(0)[0] for _ in range(3)]
    tokens = [issue_token(customer)[0] for customer in customers]
    wrong = [f"{(int(current_otp(t)) + 1) % 10**6:06d}" for t in tokens]
    answers = [
        _verify(base, key, customer.login_id, code)
        for _ in range(2)
        for customer, code in zip(customers, wrong, strict=True)
    ]
    assert answers == ["rejected"] * 6
    assert _verify(base, key, customers[0].login_id, current_otp(tokens[0])) == "accepted"

    with metrics_server([directory]) as url:
        samples, _ = scrape(url)
    assert value(samples, "netbank_credential_checks_total", kind="otp", outcome="rejected") == 6
    assert value(samples, "netbank_credential_checks_total", kind="otp", outcome="accepted") == 1
    assert value(samples, "netbank_otp_verification_seconds_count") == 7
    assert len(list(directory.glob("counter_*.db"))) == 2
