"""緊急利用停止 seen by a real second app process (PostgreSQL).

A separate Python process serves the bank with waitress on the test database, as a
second app node behind a load balancer would. The customer is logged in on that
process; this process suspends them; the very next request on the other process
fails. Nothing waits for time: the child reports its port once it listens, and every
step after that is a request whose answer is awaited.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from netbank import clock
from netbank.helpdesk.services import emergency_suspend
from tests.helpdesk.factories import PASSWORD, make_customer, make_operator

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import sys
from waitress import create_server
from netbank.config.wsgi import application
server = create_server(application, host="127.0.0.1", port=0, threads=2)
print(server.effective_port, flush=True)
server.run()
"""


@pytest.fixture
def other_process() -> Iterator[str]:
    """Base URL of a second app process on this test database."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "PYTHONPATH": str(ROOT / "src"),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        if not line.strip().isdigit():
            child.kill()
            _, err = child.communicate(timeout=30)
            pytest.fail(f"the second app process did not start: {line!r} {err[-2000:]}")
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        child.terminate()
        try:
            child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()


class Browser:
    """A cookie-keeping HTTP client, following redirects like a browser."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def post(self, path: str, data: dict[str, str]) -> tuple[str, str]:
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base + path, data=body, timeout=30) as response:
            return response.geturl(), response.read().decode()


def test_a_customer_on_another_app_process_is_out_on_the_next_request(other_process: str) -> None:
    clock.set_now(None)  # the other process runs on the real clock
    customer = make_customer()
    browser = Browser(other_process)
    _, page = browser.get("/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    url, _ = browser.post(
        "/",
        {
            "login_id": customer.login_id,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token.group(1),
        },
    )
    assert url.endswith("/top/"), url
    url, _ = browser.get("/top/")
    assert url.endswith("/top/")

    emergency_suspend(
        customer=customer, operator=make_operator().user, reason="不正送金の申告", ip=None
    )

    url, page = browser.get("/top/")
    assert url.endswith("/?ended=suspended"), url
    assert "お取引が停止されたため" in page
