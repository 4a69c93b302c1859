"""One worker process of the benchmark's server: waitress on a SO_REUSEPORT socket.

``bench/otp_verify.py`` starts several of these, each in its own process, all bound to
the same loopback port with ``SO_REUSEPORT``: the kernel spreads incoming connections
over the processes (by a hash of the connection), so a keep-alive load generator's
connections land on every worker, and each process has its own interpreter and GIL.
Waitress is the server the project already ships (``netbank demo``); no pre-fork master
is needed for a benchmark, and the same arrangement works behind any load balancer.

The worker prints ``ready <pid>`` once its socket is bound and one request has gone
through the application (so Django, the URLconf and the middleware are loaded), and
stops cleanly on SIGTERM or SIGINT. With ``--profile FILE`` it profiles every request
with cProfile (one profiler per server thread) and writes the merged statistics to
FILE when it stops.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import logging
import os
import pstats
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def _load(target: str) -> WsgiApp:
    module_name, _, attr = target.partition(":")
    app: WsgiApp = getattr(importlib.import_module(module_name), attr or "application")
    return app


class _Profiled:
    """Wrap a WSGI app: each server thread gets its own cProfile.Profile, enabled only
    while it runs a request (cProfile profiles one thread at a time)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.local = threading.local()
        self.profiles: list[cProfile.Profile] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        profile = getattr(self.local, "profile", None)
        if profile is None:
            profile = self.local.profile = cProfile.Profile()
            with self.lock:
                self.profiles.append(profile)
        profile.enable()
        try:
            # The body is built by the time the view returns (Django responses are
            # not streamed here), so joining it keeps the whole request in the profile.
            return [b"".join(self.app(environ, start_response))]
        finally:
            profile.disable()

    def dump(self, path: str) -> None:
        with self.lock:
            profiles = list(self.profiles)
        if not profiles:
            return
        stats = pstats.Stats(profiles[0], stream=io.StringIO())
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)


def _warm_up(app: WsgiApp, path: str) -> None:
    """One request through the application, so imports and URL resolution are done
    before the load starts (a GET on the POST-only API answers 405)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []
    # Django logs every 4xx as a warning; this one is expected.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    try:
        body = b"".join(app(environ, lambda s, h, *a: status.append(s)))
    finally:
        request_log.setLevel(level)
    if not status or not status[0].startswith("405"):
        raise SystemExit(f"warm-up request answered {status} {body[:200]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--app", default="netbank.config.wsgi:application")
    parser.add_argument("--warm-path", default="/api/v1/verify")
    parser.add_argument("--profile", help="write cProfile statistics here on exit")
    args = parser.parse_args(argv)
    if args.host not in {"127.0.0.1", "::1", "localhost"}:
        parser.error("the benchmark serves on loopback only")

    sock = _listen(args.host, args.port, backlog=1024)
    app = _load(args.app)
    _warm_up(app, args.warm_path)
    profiled = _Profiled(app) if args.profile else None

    from waitress import create_server  # type: ignore[import-untyped]

    # "Task queue depth is N" is waitress saying all its threads are busy: expected
    # under a closed-loop load of more connections than threads, and noise here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    server = create_server(
        profiled or app,
        sockets=[sock],
        threads=args.threads,
        connection_limit=1000,
        channel_timeout=30,
        ident="netbank-bench",
    )

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"ready {os.getpid()}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if profiled is not None:
            profiled.dump(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
