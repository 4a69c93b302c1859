"""The bank under a real granian server in a child process, for tests that need what only a
real server shows (its worker processes, its access log, its refusal to start).

``granian_command`` is the command line; ``serving`` starts it on this test database, waits
until it answers, yields its base URL and stops it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def granian_command(
    app: str, port: int, *, workers: int = 1, options: tuple[str, ...] = ()
) -> list[str]:
    """granian serving ``app`` (module:attribute) on 127.0.0.1:``port``."""
    return [
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
        str(workers),
        *options,
        app,
    ]


def database_env(**extra: str) -> dict[str, str]:
    """This process's environment for a server on the test database (PostgreSQL)."""
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}",
        "PYTHONPATH": str(ROOT / "src"),
        **extra,
    }


def answers(base: str, path: str = "/healthz") -> bool:
    """Whether the server answers ``path`` at all (any HTTP status)."""
    host, _, port = base.removeprefix("http://").partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def serving(
    app: str,
    log: Path,
    *,
    workers: int = 1,
    options: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    ready: Callable[[str], bool] = answers,
    timeout: float = 60,
) -> Iterator[str]:
    """Serve ``app`` with granian (output to ``log``) until the block ends; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = granian_command(app, port, workers=workers, options=options)
    with log.open("w") as sink:
        child = subprocess.Popen(
            command, env=env or database_env(), cwd=ROOT, stdout=sink, stderr=sink
        )
        try:
            deadline = time.monotonic() + timeout
            while not ready(base):
                if time.monotonic() > deadline or child.poll() is not None:
                    pytest.fail("granian did not start: " + log.read_text()[-2000:])
                time.sleep(0.2)
            yield base
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
