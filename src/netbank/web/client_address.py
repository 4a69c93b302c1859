"""The client's address: one place that says where a request came from.

Every view that audits, throttles or records a login asks ``client_address(request)``.
It is ``REMOTE_ADDR`` and nothing a client can write: behind load balancers the WSGI
entry points (``netbank.config.wsgi`` and ``netbank.config.wsgi_api``) are wrapped by
``from_environment``, which sets ``REMOTE_ADDR`` from ``X-Forwarded-For`` when, and only
when, the connection comes from an address in ``NETBANK_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest

TRUSTED_PROXIES_ENV = "NETBANK_TRUSTED_PROXIES"


def client_address(request: HttpRequest) -> str | None:
    """The address the audit trail and the throttles record (None when the server gave none)."""
    value = request.META.get("REMOTE_ADDR")
    return str(value) if value else None


def behind_proxies(app: Any, trusted: str) -> Any:
    """``app`` with ``REMOTE_ADDR`` (and the scheme) taken from ``X-Forwarded-For`` (and
    ``X-Forwarded-Proto``) when, and only when, the connection comes from one of the
    ``trusted`` addresses or networks ("10.0.0.5,10.1.0.0/16"): the client address the
    login throttle and the audit trail use. granian has no server option for this (waitress
    has ``trusted_proxy``), so its own WSGI wrapper does it, in front of Django.
    """
    from granian.utils.proxies import wrap_wsgi_with_proxy_headers

    hosts = [part.strip() for part in trusted.split(",") if part.strip()]
    if not hosts or "*" in hosts:
        raise ValueError("NETBANK_TRUSTED_PROXIES names the load balancers' addresses, not '*'")
    return wrap_wsgi_with_proxy_headers(app, trusted_hosts=hosts)


def from_environment(app: Any) -> Any:
    """``app`` behind the proxies ``NETBANK_TRUSTED_PROXIES`` names, or ``app`` itself."""
    trusted = os.environ.get(TRUSTED_PROXIES_ENV, "")
    return behind_proxies(app, trusted) if trusted.strip() else app
