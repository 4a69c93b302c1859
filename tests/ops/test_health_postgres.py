"""/readyz on PostgreSQL when the database goes away, and through a real granian server.

These tests commit (transaction=True): the connection is killed or pointed elsewhere,
and a separate server process reads what this process changes.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from netbank.config import wsgi_api
from tests.granian import answers, database_env, serving
from tests.ops.test_health import call

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
OK = {"status": "ok"}
DATABASE_DOWN = {"status": "not ready", "failed": ["database"]}


def _dsn() -> str:
    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(app: Any) -> tuple[int, Any]:
    status, _headers, body = call(app, "/readyz")
    return status, json.loads(body)


def test_a_terminated_connection_is_not_ready_then_reconnected() -> None:
    app = wsgi_api.build()
    assert _ready(app) == (200, OK)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    # The database administrator (or a failover) ends the server's session.
    with psycopg.connect(_dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert _ready(app) == (503, DATABASE_DOWN)
    # The broken connection was dropped at the end of that poll; the next one reconnects.
    assert _ready(app) == (200, OK)


def test_an_unreachable_database_is_not_ready_until_it_is_back() -> None:
    app = wsgi_api.build()
    settings_dict = connection.settings_dict
    port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = str(_free_port())  # nothing listens there
    try:
        started = time.monotonic()
        assert _ready(app) == (503, DATABASE_DOWN)
        assert _ready(app) == (503, DATABASE_DOWN)
        assert time.monotonic() - started < 10
    finally:
        connection.close()
        settings_dict["PORT"] = port
    assert _ready(app) == (200, OK)


def test_a_query_that_hangs_is_cut_short_by_the_statement_timeout(settings: Any) -> None:
    """A poll never holds a server thread for long: here the outbox table is locked by
    someone else, its query is cancelled after the timeout, and the poll says so."""
    settings.NETBANK_READY_DB_TIMEOUT_MS = 300
    app = wsgi_api.build()
    assert _ready(app) == (200, OK)
    with psycopg.connect(_dsn()) as other:
        other.execute("LOCK TABLE notifications_outboxmail IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        assert _ready(app) == (503, {"status": "not ready", "failed": ["outbox"]})
        assert time.monotonic() - started < 5
        other.rollback()
    assert _ready(app) == (200, OK)


@pytest.fixture
def granian_server(tmp_path: Path) -> Iterator[str]:
    """The API application served by granian in its own process, on the test database."""
    env = database_env(DATABASE_URL=_dsn().replace("postgresql://", "postgres://"))
    with serving(
        "netbank.config.wsgi_api:application",
        tmp_path / "granian.log",
        options=("--no-ws",),
        env=env,
        ready=lambda base: answers(base, "/healthz"),
    ) as base:
        yield base


def _http(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request(method, parts.path)
        response = conn.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        conn.close()


def test_a_real_server_answers_the_load_balancer_by_address(granian_server: str) -> None:
    status, headers, body = _http(granian_server + "/readyz")
    assert (status, json.loads(body)) == (200, OK)
    assert headers["cache-control"] == "no-store"
    assert _http(granian_server + "/healthz", "HEAD")[0] == 200
    assert _http(granian_server + "/readyz", "DELETE")[0] == 405
    # Every other path is still Django's.
    assert _http(granian_server.replace("127.0.0.1", "localhost") + "/api/v1/nothing")[0] == 404

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditchainhead DISABLE TRIGGER audit_head_forward_only")
        try:
            status, _headers, body = _http(granian_server + "/readyz")
            assert (status, json.loads(body)) == (
                503,
                {"status": "not ready", "failed": ["audit_triggers"]},
            )
        finally:
            cursor.execute(
                "ALTER TABLE audit_auditchainhead ENABLE TRIGGER audit_head_forward_only"
            )
    status, _headers, body = _http(granian_server + "/readyz")
    assert (status, json.loads(body)) == (200, OK)
