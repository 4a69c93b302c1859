"""The client address behind load balancers, through the web site's own WSGI entry point.

netbank.config.wsgi (the whole site, full middleware) honours NETBANK_TRUSTED_PROXIES
just as netbank.config.wsgi_api does: a login through a trusted proxy is audited and
throttled under the address the proxy forwarded, one from any other peer under the
peer's own address, whatever X-Forwarded-For it sends.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings

from netbank.audit.models import AuditRecord
from netbank.config import wsgi
from netbank.customers.models import ThrottleBucket
from tests.config.test_wsgi_api import _call
from tests.config.test_wsgi_api import _keep_test_connection as _keep_test_connection
from tests.customers.factories import make_customer

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"
CLIENT = "203.0.113.9"


def _failed_login(app: Any, *, peer: str) -> None:
    """A wrong password typed on the login page, the connection coming from ``peer``."""
    customer = make_customer()
    forwarded = {"X-Forwarded-For": CLIENT}
    page = _call(app, "GET", "/", headers=forwarded, peer=peer)
    assert page.status == 200
    cookies = [c.strip().split(";", 1)[0] for c in page.headers["set-cookie"]]
    cookie = next(c for c in cookies if c.startswith(settings.CSRF_COOKIE_NAME + "="))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body.decode())
    assert token is not None
    body = urlencode(
        {"login_id": customer.login_id, "password": "wrong-pass-1", "csrfmiddlewaretoken": token[1]}
    ).encode()
    answer = _call(
        app,
        "POST",
        "/",
        body,
        headers=forwarded | {"Cookie": cookie},
        peer=peer,
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status == 400


def _web_app(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NETBANK_TRUSTED_PROXIES", PROXY)
    return wsgi.build()


def _recorded_addresses() -> set[str | None]:
    return set(AuditRecord.objects.filter(event="login.failed").values_list("ip", flat=True))


def test_a_login_through_a_trusted_proxy_is_attributed_to_the_forwarded_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _failed_login(_web_app(monkeypatch), peer=PROXY)
    assert _recorded_addresses() == {CLIENT}
    assert ThrottleBucket.objects.filter(key__contains=CLIENT).exists()
    assert not ThrottleBucket.objects.filter(key__contains=PROXY).exists()


def test_a_peer_that_is_not_a_trusted_proxy_cannot_choose_its_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    peer = "198.51.100.7"
    _failed_login(_web_app(monkeypatch), peer=peer)
    assert _recorded_addresses() == {peer}
    assert ThrottleBucket.objects.filter(key__contains=peer).exists()
    assert not ThrottleBucket.objects.filter(key__contains=CLIENT).exists()


def test_without_the_setting_the_web_application_is_not_wrapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NETBANK_TRUSTED_PROXIES", raising=False)
    plain = wsgi.build().app  # inside the /healthz and /readyz wrapper
    monkeypatch.setenv("NETBANK_TRUSTED_PROXIES", PROXY)
    assert type(wsgi.build().app) is not type(plain)
