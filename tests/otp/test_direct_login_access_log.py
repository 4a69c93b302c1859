"""The Directログイン ticket in a real server's access log (granian, PostgreSQL).

granian is the server docs/operations.md names. Its access log is switched on with a
format that records the query string as well, as a load balancer or proxy does that
logs the full request URI. The GET fallback's ticket shows up in such a line (which is
why the app uses the POST form); a posted ticket shows up in none, nor anywhere else in
what the server writes.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from netbank import clock
from tests.granian import serving
from tests.otp.test_direct_login import _in_use, _ticket_answer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ACCESS_FMT = "ACCESS %(method)s %(path)s?%(query_string)s %(status)d"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def granian(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Base URL of the bank under granian on this test database, and its output file."""
    out = tmp_path / "granian.log"
    options = ("--access-log", "--access-log-fmt", ACCESS_FMT)
    with serving("netbank.config.wsgi:application", out, options=options) as base:
        yield base, out


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
