"""The Directログイン ticket in a real server's access log (granian, PostgreSQL).

granian is the server docs/operations.md names. Its access log is switched on with a
format that records the query string as well, as a load balancer or proxy does that
logs the full request URI. The GET fallback's ticket shows up in such a line (which is
why the app uses the POST form); a posted ticket shows up in none, nor anywhere else in
what the server writes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from netbank import clock
from tests.otp.test_direct_login import _in_use, _ticket_answer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ACCESS_FMT = "ACCESS %(method)s %(path)s?%(query_string)s %(status)d"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def granian(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Base URL of the bank under granian on this test database, and its output file."""
    db = connection.settings_dict
    port = _free_port()
    out = tmp_path / "granian.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "PYTHONPATH": str(ROOT / "src"),
    }
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
        "1",
        "--access-log",
        "--access-log-fmt",
        ACCESS_FMT,
        "netbank.config.wsgi:application",
    ]
    with out.open("w") as sink:
        child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=sink)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:  # until the server answers (a login page is cheap)
                try:
                    _request(base + "/login/direct/invalid/")
                    break
                except (urllib.error.URLError, ConnectionError):
                    if time.monotonic() > deadline or child.poll() is not None:
                        pytest.fail("granian did not start: " + out.read_text()[-2000:])
                    time.sleep(0.2)
            yield base, out
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _request(url: str, *, data: bytes | None = None) -> int:
    """GET, or POST of a form (urllib's default type for data) from a local page."""
    opener = urllib.request.build_opener(_NoRedirect())
    opener.addheaders = [("Origin", "null")]
    try:
        with opener.open(url, data=data, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _access_lines(out: Path, path: str, expected: int) -> list[str]:
    """The access-log lines for ``path``, once ``expected`` of them have been written."""
    deadline = time.monotonic() + 10
    while True:
        lines = [
            line for line in out.read_text().splitlines() if "ACCESS " in line and path in line
        ]
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_posted_ticket_is_in_no_access_log_line(granian: tuple[str, Path]) -> None:
    base, out = granian
    # The server process runs on the real clock: so does this one.
    clock.set_now(datetime.now(UTC))
    try:
        posted = _ticket_answer(*_in_use())["ticket"]
        fallback = _ticket_answer(*_in_use())["ticket"]
    finally:
        clock.set_now(None)

    body = urllib.parse.urlencode({"t": posted}).encode()
    assert _request(base + "/login/direct/open/", data=body) == 303
    # Used once: the same post again is refused (and logged) without the ticket.
    assert _request(base + "/login/direct/open/", data=body) == 303
    # The wrong method with the ticket in a query string: 405, and the ticket not read.
    assert _request(base + "/login/direct/open/?x=1") == 405
    assert _request(base + "/login/direct/?t=" + fallback) == 303

    posts = _access_lines(out, "/login/direct/open/", 3)
    assert [re.sub(r"\s+", " ", line).split("ACCESS ")[1] for line in posts] == [
        "POST /login/direct/open/? 303",
        "POST /login/direct/open/? 303",
        "GET /login/direct/open/?x=1 405",
    ]
    # The log does record query strings: the GET fallback's ticket is there.
    [get_line] = _access_lines(out, "/login/direct/?t=", 1)
    assert fallback in get_line
    assert posted not in out.read_text()
