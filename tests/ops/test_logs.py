"""JSON log lines and the request id: one id per request, in its log lines, its
``X-Request-ID`` answer and its audit records; a proxy's id only when the proxy is trusted.

Requests go through the real WSGI applications (tests/config/test_wsgi_api.py's helper).
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from netbank.audit.models import AuditRecord
from netbank.config import wsgi, wsgi_api
from netbank.ops import request_id
from netbank.ops.logs import JsonFormatter, RequestIdFilter, TextFormatter
from netbank.otp.channels.services import channel_key_create
from netbank.otp.models import Token
from tests.config.test_wsgi_api import (
    VERIFY,
    Answer,
    _call,
    _code,
    _keep_test_connection,  # noqa: F401 (autouse fixture: requests keep the test's transaction)
)
from tests.otp.factories import in_use_token
from tests.web.test_deploy_check import clean_env

pytestmark = pytest.mark.django_db

MADE_ID = re.compile(r"[0-9a-f]{32}")
PROXY = "10.0.0.5"
PROXY_ID = "req-7f3a9c2e-01.lb"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every record of the run, as the production handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _record(message: str, *, exc: bool = False, **extra: Any) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("the cause")
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("netbank.test", logging.WARNING, __file__, 1, message, (), exc_info)
    record.__dict__.update(extra)
    return record


# --- The formatters ---------------------------------------------------------------------


def test_a_json_line_has_the_fields_a_shipper_reads() -> None:
    token = request_id.bind("abcdef0123456789")
    try:
        line = JsonFormatter().format(_record("振込 %s", exc=True))
    finally:
        request_id.reset(token)
    assert "\n" not in line  # the traceback too stays on the one line
    data = json.loads(line)
    assert set(data) == {"time", "level", "logger", "message", "request_id", "exception"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["time"])
    assert (data["level"], data["logger"]) == ("WARNING", "netbank.test")
    assert data["message"] == "振込 %s"
    assert data["request_id"] == "abcdef0123456789"
    assert "ValueError: the cause" in data["exception"]
    assert data["exception"].startswith("Traceback")


def test_outside_a_request_a_json_line_has_no_request_id() -> None:
    data = json.loads(JsonFormatter().format(_record("outbox: mail 3 sent")))
    assert set(data) == {"time", "level", "logger", "message"}


def test_a_record_s_extras_never_reach_the_line() -> None:
    """Django logs a 4xx with the whole request as an extra; its query can hold a token."""

    class Request:
        request_id = "abcdef0123456789"

        def __repr__(self) -> str:
            return "<WSGIRequest: GET '/otp/direct/?t=single-use-token'>"

    data = json.loads(
        JsonFormatter().format(_record("Not Found: /x", request=Request(), status_code=404))
    )
    assert "single-use-token" not in json.dumps(data)
    assert data["request_id"] == "abcdef0123456789"  # the request's id, read from it
    assert set(data) == {"time", "level", "logger", "message", "request_id"}


def test_a_text_line_carries_the_request_id() -> None:
    record = _record("hello")
    RequestIdFilter().filter(record)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING netbank\.test \[-\] hello",
        TextFormatter().format(record),
    )


# --- The real logging configuration -------------------------------------------------------


def _settings_process(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import django, logging; django.setup(); from django.conf import settings; "
        "print(settings.LOG_FORMAT); "
        "logging.getLogger('netbank.probe').warning('probe %s', 'line')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean_env(env, tmp_path), "DJANGO_SETTINGS_MODULE": "netbank.config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_logs_json_lines_and_development_text(tmp_path: Path) -> None:
    production = _settings_process({"NETBANK_ENV": "production"}, tmp_path)
    assert production.stdout.strip() == "json", production.stderr
    line = json.loads(production.stderr.strip().splitlines()[-1])
    assert line["message"] == "probe line"
    assert (line["level"], line["logger"]) == ("WARNING", "netbank.probe")

    development = _settings_process({}, tmp_path)
    assert development.stdout.strip() == "text", development.stderr
    assert development.stderr.strip().endswith("WARNING netbank.probe [-] probe line")

    chosen = _settings_process({"NETBANK_ENV": "production", "LOG_FORMAT": "text"}, tmp_path)
    assert chosen.stderr.strip().endswith("WARNING netbank.probe [-] probe line")


# --- One id per request: answer header, log lines, audit records ----------------------------


def _verify(app: Any, key: str, token: Token, *, peer: str, request_id: str | None) -> Answer:
    body = json.dumps({"user_id": token.user_id, "otp": _code(token)}).encode()
    headers = {"Authorization": f"Bearer {key}"}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return _call(app, "POST", VERIFY, body, headers=headers, peer=peer)


def _accepted_id(token: Token) -> Any:
    return AuditRecord.objects.get(event="otp.accepted", customer_id=token.customer_id).data.get(
        "request_id"
    )


@pytest.mark.parametrize("app", [wsgi_api.application, wsgi.application], ids=["api", "site"])
def test_each_request_gets_its_own_id_in_the_answer_and_its_audit_record(
    frozen_clock: datetime, app: Any
) -> None:
    key = channel_key_create(name="telephone").key
    first, second = in_use_token(), in_use_token()
    one = _verify(app, key, first, peer="192.0.2.10", request_id=None)
    two = _verify(app, key, second, peer="192.0.2.10", request_id=None)
    assert one.json() == two.json() == {"result": "accepted"}
    made = one.header("X-Request-ID")
    assert MADE_ID.fullmatch(made or "")
    assert two.header("X-Request-ID") != made
    assert _accepted_id(first) == made
    assert _accepted_id(second) == two.header("X-Request-ID")
    assert request_id.current() is None  # unbound once the request is served


def test_log_lines_carry_the_id_of_their_request(
    frozen_clock: datetime, settings: Settings, json_log: io.StringIO
) -> None:
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "verify_per_channel_per_minute": 1}
    key = channel_key_create(name="telephone").key
    token = in_use_token()
    assert (
        _verify(wsgi_api.application, key, token, peer="192.0.2.10", request_id=None).status == 200
    )
    refused = _verify(wsgi_api.application, key, token, peer="192.0.2.10", request_id=None)
    assert refused.status == 429
    rid = refused.header("X-Request-ID")
    # The refusal is audited and logged (Django's line for a 4xx), both with the answer's id.
    assert AuditRecord.objects.get(event="channel.throttled").data["request_id"] == rid
    logged = [line for line in lines(json_log) if line["logger"] == "django.request"]
    assert logged, json_log.getvalue()
    assert logged[-1]["message"] == "Too Many Requests: /api/v1/verify"
    assert logged[-1]["request_id"] == rid
    assert all(line.get("request_id") for line in logged)


# --- Taking the id from a trusted proxy -----------------------------------------------------


@pytest.fixture
def behind_proxy(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NETBANK_TRUSTED_PROXIES", f"{PROXY},10.1.0.0/16")
    return wsgi_api.build()


def test_a_trusted_proxy_s_id_is_kept(frozen_clock: datetime, behind_proxy: Any) -> None:
    key = channel_key_create(name="telephone").key
    token = in_use_token()
    answer = _verify(behind_proxy, key, token, peer=PROXY, request_id=PROXY_ID)
    assert answer.json() == {"result": "accepted"}
    assert answer.header("X-Request-ID") == PROXY_ID
    assert _accepted_id(token) == PROXY_ID


@pytest.mark.parametrize(
    ("peer", "sent"),
    [
        ("198.51.100.7", PROXY_ID),  # a client sending the header itself
        (PROXY, "short"),  # too short
        (PROXY, "req 1; drop"),  # spaces and punctuation a log line should not hold
        (PROXY, "x" * 200),  # too long
        (PROXY, "ünïcode-request-id"),
    ],
)
def test_an_untrusted_or_malformed_id_is_replaced(
    frozen_clock: datetime, behind_proxy: Any, peer: str, sent: str
) -> None:
    key = channel_key_create(name="telephone").key
    token = in_use_token()
    answer = _verify(behind_proxy, key, token, peer=peer, request_id=sent)
    assert answer.json() == {"result": "accepted"}
    made = answer.header("X-Request-ID")
    assert made != sent
    assert MADE_ID.fullmatch(made or "")
    assert _accepted_id(token) == made


def test_without_trusted_proxies_a_sent_id_is_replaced(
    frozen_clock: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NETBANK_TRUSTED_PROXIES", raising=False)
    app = wsgi_api.build()
    key = channel_key_create(name="telephone").key
    token = in_use_token()
    answer = _verify(app, key, token, peer=PROXY, request_id=PROXY_ID)
    made = answer.header("X-Request-ID")
    assert made != PROXY_ID
    assert MADE_ID.fullmatch(made or "")
    assert _accepted_id(token) == made
