"""The client's address: one place that says where a request came from.

Every view that audits, throttles or records a login asks ``client_address(request)``.
It is ``REMOTE_ADDR`` and nothing a client can write: behind load balancers the WSGI
entry points (``netbank.config.wsgi`` and ``netbank.config.wsgi_api``) are wrapped by
``from_environment``, which sets ``REMOTE_ADDR`` from ``X-Forwarded-For`` when, and only
when, the connection comes from an address in ``NETBANK_TRUSTED_PROXIES``. Such a
connection's ``X-Request-ID`` is passed on too (as ``FORWARDED_REQUEST_ID``), for the
request-id middleware; a client's own is never trusted.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

TRUSTED_PROXIES_ENV = "NETBANK_TRUSTED_PROXIES"
# The environ key under which ``behind_proxies`` passes on a trusted proxy's X-Request-ID
# (the request-id middleware reads it; a client's own header never gets there).
FORWARDED_REQUEST_ID = "netbank.forwarded_request_id"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    proxied = wrap_wsgi_with_proxy_headers(app, trusted_hosts=hosts)
    is_trusted = trusted_peer(hosts)

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        # Only a request that carries the header pays for the address test.
        forwarded = environ.get("HTTP_X_REQUEST_ID")
        if forwarded is not None and is_trusted(environ.get("REMOTE_ADDR")):
            environ[FORWARDED_REQUEST_ID] = forwarded
        return proxied(environ, start_response)

    return wrapped


def proxy_network(entry: str) -> Network:
    """One NETBANK_TRUSTED_PROXIES entry ("10.0.0.5" or "10.1.0.0/16") as a network;
    ValueError, saying why, for anything else (a name, '*', host bits after the '/')."""
    return ipaddress.ip_network(entry.strip(), strict=True)


def trusted_peer(hosts: list[str]) -> Callable[[str | None], bool]:
    """Whether a connection's address is one of ``hosts``, as the proxy-header wrapper
    decides it (an entry that is no address matches that text only)."""
    networks: list[Network] = []
    literals: set[str] = set()
    for host in hosts:
        try:
            networks.append(proxy_network(host))
        except ValueError:
            literals.add(host)

    def is_trusted(peer: str | None) -> bool:
        if not peer:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return peer in literals
        return any(address in network for network in networks)

    return is_trusted


def from_environment(app: Any) -> Any:
    """``app`` behind the proxies ``NETBANK_TRUSTED_PROXIES`` names, or ``app`` itself."""
    trusted = os.environ.get(TRUSTED_PROXIES_ENV, "")
    return behind_proxies(app, trusted) if trusted.strip() else app
