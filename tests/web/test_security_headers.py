"""Security headers on every kind of page, and no inline script or style anywhere."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.test import Client, override_settings
from django.test.client import RequestFactory

from netbank.web import views as web_views
from tests.customers.factories import make_customer
from tests.customers.support import log_in

pytestmark = pytest.mark.django_db


def _pages(client: Client) -> dict[str, object]:
    return {
        "login": client.get("/"),
        "login_error": client.post("/", {"login_id": "ｘ", "password": ""}),
        "not_found": client.get("/no-such-page/"),
        "help": client.get("/help/"),
    }


def _assert_headers(response: object, name: str) -> None:
    csp = response["Content-Security-Policy"]  # type: ignore[index]
    assert "'unsafe-inline'" not in csp, name
    assert "'unsafe-eval'" not in csp, name
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'", name
    assert directives["style-src"] == "'self'", name
    assert directives["frame-ancestors"] == "'none'", name
    assert directives["object-src"] == "'none'", name
    assert response["X-Frame-Options"] == "DENY", name  # type: ignore[index]
    assert response["X-Content-Type-Options"] == "nosniff", name  # type: ignore[index]
    assert response["Referrer-Policy"] in {"same-origin", "no-referrer"}, name  # type: ignore[index]


def test_anonymous_pages_and_error_pages_carry_the_security_headers(
    frozen_clock: datetime,
) -> None:
    for name, response in _pages(Client()).items():
        _assert_headers(response, name)


def test_logged_in_pages_carry_the_security_headers_and_are_not_cached(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    client = Client()
    log_in(client, customer.login_id)
    for path in ("/top/", "/procedures/", "/procedures/secret-questions/"):
        r = client.get(path)
        assert r.status_code == 200, path
        _assert_headers(r, path)
        assert "no-store" in r["Cache-Control"], path


def test_server_error_page_is_plain_and_carries_no_detail() -> None:
    request = RequestFactory().get("/boom")
    r = web_views.server_error(request)
    assert r.status_code == 500
    page = r.content.decode()
    assert "ただいまお取引を受け付けられません" in page
    assert "Traceback" not in page


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)
_STYLE_ATTR = re.compile(r"\sstyle\s*=", re.IGNORECASE)
_EVENT_ATTR = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
_JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


def _assert_no_inline_code(page: str, name: str) -> None:
    assert not _INLINE_SCRIPT.search(page), name
    assert not _STYLE_TAG.search(page), name
    assert not _STYLE_ATTR.search(page), name
    assert not _EVENT_ATTR.search(page), name
    assert not _JS_URL.search(page), name


def test_no_page_relies_on_inline_script_or_style(frozen_clock: datetime) -> None:
    # The CSP forbids inline code; a page that used it would silently break.
    for name, response in _pages(Client()).items():
        _assert_no_inline_code(response.content.decode(), name)  # type: ignore[attr-defined]
    customer = make_customer()
    client = Client()
    log_in(client, customer.login_id)
    for path in ("/top/", "/procedures/", "/procedures/secret-questions/"):
        _assert_no_inline_code(client.get(path).content.decode(), path)


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_hsts_is_sent_over_https_only(frozen_clock: datetime) -> None:
    # Production sets these (tests/customers/test_password_hashing.py reads them there).
    secure = Client().get("/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in Client().get("/")
