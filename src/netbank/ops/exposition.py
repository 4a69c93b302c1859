"""The metrics server: one per node, on a private address of its own.

It adds up the counts that the node's processes (granian's workers of the web and API
servers, the worker) wrote into their multiprocess directories, reads the gauges from
the database (``netbank.ops.gauges``), and answers ``GET /metrics`` in Prometheus' text
format. The bank's public port never serves metrics: this listener is a separate port
that the firewall opens to the Prometheus host only (docs/operations.md, "Metrics").
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.db import close_old_connections
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from netbank.ops.gauges import DatabaseGauges

logger = logging.getLogger(__name__)

PATH = "/metrics"
DEFAULT_BIND = "127.0.0.1:9108"


class BindError(ValueError):
    """A --bind value the metrics server refuses, with the reason."""


def parse_bind(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) of a loopback or private address.

    A public or wildcard address is refused: the metrics tell how the bank is used and
    belong on a network only the monitoring reaches."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not port_text.isascii() or not port_text.isdigit():
        raise BindError(f"--bind {value!r}: expected HOST:PORT, e.g. {DEFAULT_BIND}")
    port = int(port_text)
    if port > 65535:  # 0: any free port
        raise BindError(f"--bind {value!r}: the port must be 0-65535")
    host = host.removeprefix("[").removesuffix("]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise BindError(f"--bind {value!r}: the host must be an IP address") from None
    if address.is_unspecified or address.is_global:
        raise BindError(
            f"--bind {value!r}: bind a loopback or private address, not a public or "
            "wildcard one (firewall the port to the Prometheus host)"
        )
    return host, port


class ProcessCounts(Collector):
    """The counters and histograms that the node's processes wrote into ``directories``
    (prometheus_client's multiprocess files), added up."""

    def __init__(self, directories: Iterable[Path]) -> None:
        self.directories = tuple(directories)

    def files(self) -> list[str]:
        # A directory of a service that does not run on this node is simply absent.
        return [str(f) for d in self.directories if d.is_dir() for f in sorted(d.glob("*.db"))]

    def collect(self) -> Iterator[Metric]:
        merged: Iterable[Metric] = MultiProcessCollector.merge(  # type: ignore[no-untyped-call]
            self.files(), accumulate=True
        )
        yield from merged


def registry(directories: Iterable[Path]) -> CollectorRegistry:
    """The process counts of ``directories`` and the database gauges."""
    metrics = CollectorRegistry(auto_describe=False)
    metrics.register(ProcessCounts(directories))
    metrics.register(DatabaseGauges())
    return metrics


def application(metrics: CollectorRegistry) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering ``GET /metrics`` (404 elsewhere, 405 for other methods)."""
    exposition = make_wsgi_app(metrics)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"}:
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b"method not allowed\n"]
        # Outside Django's request cycle, so do what it does around a request: drop a
        # connection that broke or outlived CONN_MAX_AGE, before and after the queries.
        close_old_connections()
        try:
            return list(exposition(environ, start_response))
        finally:
            close_old_connections()

    return app


class _QuietHandler(WSGIRequestHandler):
    """No access log line per scrape on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def server(bind: str, directories: Iterable[Path]) -> WSGIServer:
    """The listener, bound and ready for ``serve_forever``.

    One thread: scrapes come one at a time from Prometheus, and the gauges' queries then
    use one database connection."""
    host, port = parse_bind(bind)
    server_class = _V6Server if ":" in host else WSGIServer
    return make_server(
        host,
        port,
        application(registry(directories)),
        server_class=server_class,
        handler_class=_QuietHandler,
    )


class _V6Server(WSGIServer):
    address_family = socket.AF_INET6
