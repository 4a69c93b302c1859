"""netbank.config.wsgi_api: the lean middleware stack for /api/ and the full one elsewhere.

Requests go through the real WSGI applications (not the test client, which always
builds its chain from settings.MIDDLEWARE), on the test database.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.config import wsgi, wsgi_api
from netbank.oath.totp import totp
from netbank.otp.channels.services import channel_key_create
from netbank.otp.models import Token
from netbank.otp.token_secret import token_seed
from tests.otp.factories import in_use_token

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/verify"


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    """As Django's test client does: a request must not close the test's connection
    (and with it the transaction every test runs in)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _call(
    app: Any,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    peer: str = "192.0.2.10",
    content_type: str = "application/json",
) -> Answer:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": peer,
        "HTTP_HOST": "testserver",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_TYPE"] = content_type
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer = Answer(0)

    def start_response(status: str, response_headers: list[tuple[str, str]], *exc: Any) -> None:
        answer.status = int(status.split(" ", 1)[0])
        for name, value in response_headers:
            answer.headers.setdefault(name.lower(), []).append(value)

    result = app(environ, start_response)
    try:
        answer.body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer


def _code(token: Token) -> str:
    token.refresh_from_db()
    return totp(token_seed(token), clock.timestamp(), period=token.period, digits=token.digits)


def _verify(app: Any, key: str, token: Token) -> Answer:
    body = json.dumps({"user_id": token.user_id, "otp": _code(token)}).encode()
    return _call(app, "POST", VERIFY, body, headers={"Authorization": f"Bearer {key}"})


# --- which middleware runs ------------------------------------------------------------


def test_api_stack_is_the_full_stack_without_the_web_only_middleware() -> None:
    chain = wsgi_api.api_middleware()
    assert chain == [m for m in settings.MIDDLEWARE if m not in wsgi_api.WEB_ONLY_MIDDLEWARE]
    assert "django.middleware.security.SecurityMiddleware" in chain
    assert "netbank.web.middleware.SecurityHeadersMiddleware" in chain
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in chain


def test_every_web_only_entry_names_a_middleware_the_site_uses() -> None:
    """A renamed or removed middleware must not linger here as a stale exclusion."""
    assert set(wsgi_api.WEB_ONLY_MIDDLEWARE) <= set(settings.MIDDLEWARE)


def test_building_the_api_handler_leaves_the_site_setting_as_it_was() -> None:
    before = list(settings.MIDDLEWARE)
    wsgi_api._api_handler()
    assert list(settings.MIDDLEWARE) == before


# --- the API through the lean stack -----------------------------------------------------


def test_verification_through_the_lean_stack_is_accepted_and_audited(
    frozen_clock: datetime,
) -> None:
    key = channel_key_create(name="telephone").key
    token = in_use_token()
    answer = _verify(wsgi_api.application, key, token)
    assert answer.status == 200, answer.body
    assert answer.json() == {"result": "accepted"}
    assert AuditRecord.objects.filter(event="otp.accepted", customer_id=token.customer_id).count()


def test_lean_and_full_stacks_give_the_same_api_answer_and_security_headers(
    frozen_clock: datetime,
) -> None:
    key = channel_key_create(name="telephone").key
    lean = _verify(wsgi_api.application, key, in_use_token())
    full = _verify(wsgi.application, key, in_use_token())
    assert (lean.status, lean.body) == (full.status, full.body)
    for name in (
        "Content-Type",
        "Cache-Control",
        "Content-Security-Policy",
        "Permissions-Policy",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "Content-Length",
    ):
        assert lean.header(name) is not None, name
        assert lean.header(name) == full.header(name), name
    # The web-only middleware did not run: LocaleMiddleware labels every answer it
    # sees with its language, and the lean one has none; no cookie either way.
    assert full.header("Content-Language") == "ja"
    assert lean.header("Content-Language") is None
    assert lean.header("Set-Cookie") is None
    assert "Cookie" not in (lean.header("Vary") or "")


def test_a_reused_code_is_refused_through_the_lean_stack(frozen_clock: datetime) -> None:
    key = channel_key_create(name="telephone").key
    token = in_use_token()
    body = json.dumps({"user_id": token.user_id, "otp": _code(token)}).encode()
    auth = {"Authorization": f"Bearer {key}"}
    first = _call(wsgi_api.application, "POST", VERIFY, body, headers=auth)
    again = _call(wsgi_api.application, "POST", VERIFY, body, headers=auth)
    assert first.json() == {"result": "accepted"}
    assert again.json() == {"result": "rejected"}


@pytest.mark.parametrize(
    ("method", "path", "auth", "status", "code"),
    [
        ("POST", VERIFY, "Bearer nbk_wrong", 401, "unauthorized"),
        ("POST", VERIFY, None, 401, "unauthorized"),
        ("GET", VERIFY, None, 405, "method_not_allowed"),
        ("GET", "/api/v1/nothing-here", None, 404, None),
    ],
)
def test_api_errors_through_the_lean_stack_are_json(
    method: str, path: str, auth: str | None, status: int, code: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}
    body = b"{}" if method == "POST" else b""
    answer = _call(wsgi_api.application, method, path, body, headers=headers)
    assert answer.status == status
    assert (answer.header("Content-Type") or "").startswith("application/json")
    assert "error" in answer.json()
    if code:
        assert answer.json()["error"]["code"] == code
    assert answer.header("Set-Cookie") is None


# --- pages keep the full stack ----------------------------------------------------------


def test_pages_still_go_through_the_full_stack() -> None:
    answer = _call(wsgi_api.application, "GET", "/")
    assert answer.status == 200
    cookies = " ".join(answer.headers.get("set-cookie", []))
    assert settings.CSRF_COOKIE_NAME in cookies  # CsrfViewMiddleware ran
    assert answer.header("Content-Language") == "ja"  # LocaleMiddleware ran
    assert answer.header("Content-Security-Policy")


# --- Behind a load balancer (NETBANK_TRUSTED_PROXIES) --------------------------------


def _seen_by_app(trusted: str, environ: dict[str, Any]) -> dict[str, Any]:
    """The environ an application behind ``behind_proxies(…, trusted)`` receives."""
    seen: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(env)
        return [b""]

    wsgi_api.behind_proxies(app, trusted)(environ, lambda *a: None)
    return seen


def test_a_trusted_proxy_s_forwarded_address_becomes_the_client_address() -> None:
    seen = _seen_by_app(
        "10.0.0.5, 10.1.0.0/16",
        {
            "REMOTE_ADDR": "10.1.2.3",
            "HTTP_X_FORWARDED_FOR": "203.0.113.9",
            "HTTP_X_FORWARDED_PROTO": "https",
            "wsgi.url_scheme": "http",
        },
    )
    assert seen["REMOTE_ADDR"] == "203.0.113.9"
    assert seen["wsgi.url_scheme"] == "https"


def test_a_client_cannot_forge_its_address_by_sending_the_header_itself() -> None:
    seen = _seen_by_app(
        "10.0.0.5", {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    )
    assert seen["REMOTE_ADDR"] == "198.51.100.7"


def test_a_forged_entry_before_the_proxy_s_own_is_ignored() -> None:
    # The client sent "X-Forwarded-For: 192.0.2.1"; the proxy appended the real address.
    seen = _seen_by_app(
        "10.0.0.5", {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "192.0.2.1, 203.0.113.9"}
    )
    assert seen["REMOTE_ADDR"] == "203.0.113.9"


@pytest.mark.parametrize("trusted", ["*", " , "])
def test_trusting_everyone_or_no_one_is_refused(trusted: str) -> None:
    with pytest.raises(ValueError, match="load balancers"):
        wsgi_api.behind_proxies(lambda env, start: [b""], trusted)


def test_without_the_setting_the_application_is_not_wrapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NETBANK_TRUSTED_PROXIES", raising=False)
    # /healthz and /readyz are answered outermost, whatever is inside.
    assert isinstance(wsgi_api.build().app, wsgi_api.SplitApplication)
    monkeypatch.setenv("NETBANK_TRUSTED_PROXIES", "10.0.0.5")
    wrapped = wsgi_api.build().app
    assert not isinstance(wrapped, wsgi_api.SplitApplication)
