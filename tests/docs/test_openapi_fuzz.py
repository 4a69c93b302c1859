"""Property-based fuzz of docs/openapi.yaml against the bank itself (schemathesis).

Every operation of the document is called with requests generated from its schema, both
ones that fit it and ones that do not, through the real WSGI application (every middleware,
the real database inside the test's transaction). Whatever comes in, the bank answers
without a 5xx, and a JSON endpoint answers JSON, its errors in the documented shape
``{"error": {"code", "message", "message_en"[, "field"]}}``. Conformance of successful
answers is tests/docs/test_openapi.py's business.

Bounded and repeatable: a fixed number of examples per operation and mode, derandomized,
no example database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from werkzeug.test import Client

from netbank import clock
from netbank.otp.channels.services import channel_key_create
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
EXAMPLES = 50
SCHEMA = schemathesis.openapi.from_path(DOC)
OPERATIONS = sorted(
    (result.ok() for result in SCHEMA.get_all_operations()), key=lambda op: op.label
)
ERROR_KEYS = {"code", "message", "message_en"}

# What a schema-driven generator leaves out: text that UTF-8 cannot carry (a JSON
# "\\ud800" escape decodes to a lone surrogate), digits that are not ASCII, numbers
# int() refuses, and values of the wrong type.
LONE_SURROGATES = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
HOSTILE_TEXT = st.one_of(
    LONE_SURROGATES,
    st.tuples(st.text(max_size=8), LONE_SURROGATES).map("".join),
    st.sampled_from(
        ["", " ", "\x00", "²", "①", "٣", "１２３４５６", "9" * 4301, "-1", "1e9", "A" * 5000]
    ),
)
HOSTILE_VALUE = st.one_of(
    HOSTILE_TEXT,
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _hostile(body: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """``body`` with one field replaced or dropped, or a key added, as an attacker would."""
    body = dict(body)
    how = data.draw(st.sampled_from(["value", "key", "drop"]))
    if how == "key" or not body:
        body[data.draw(HOSTILE_TEXT)] = data.draw(HOSTILE_VALUE)
    elif how == "value":
        body[data.draw(st.sampled_from(sorted(body)))] = data.draw(HOSTILE_VALUE)
    else:
        del body[data.draw(st.sampled_from(sorted(body)))]
    return body


@pytest.fixture
def app() -> Iterator[WSGIHandler]:
    """The bank's WSGI application, kept inside the test's transaction.

    Django closes the database connection at the end of each request; inside the test's
    transaction that would end it, so (as Django's own test client does) the close is
    left out while the fuzz runs.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _is_json_api(path: str) -> bool:
    return path.startswith(("/api/", "/banking/api/"))


def _check(path: str, status: int, content_type: str, content: bytes) -> None:
    assert status < 500, (status, content[:500])
    if not _is_json_api(path):
        return
    assert content_type.startswith("application/json"), (status, content[:500])
    body = json.loads(content.decode("utf-8"))
    assert isinstance(body, dict)
    if status >= 400:
        error = body.get("error")
        assert isinstance(error, dict), body
        assert ERROR_KEYS <= set(error) <= ERROR_KEYS | {"field"}, body
        assert all(isinstance(error[k], str) and error[k] for k in ERROR_KEYS), body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_no_request_from_the_document_gets_a_5xx(
    operation: Any, mode: GenerationMode, app: WSGIHandler
) -> None:
    key = channel_key_create(name="fuzz").key
    headers = (
        {"Authorization": f"Bearer {key}"} if "channelKey" in str(operation.definition) else {}
    )
    now = [FIXED_NOW]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def fuzz(case: Any, data: st.DataObject) -> None:
        # A minute on for each request, so no throttle stands between the fuzz and the
        # parsing and checking it is after.
        now[0] += timedelta(minutes=1)
        clock.set_now(now[0])
        # The channel API's operation gets a valid key, so the fuzz reaches its body.
        response = case.call(app=app, headers=headers)
        content_type = (response.headers.get("content-type") or [""])[0]
        _check(operation.path, response.status_code, content_type, response.content)
        if isinstance(case.body, dict):
            # The same request made hostile, sent as the raw bytes an attacker would send
            # (json.dumps writes a lone surrogate as its \\u escape).
            raw = json.dumps(_hostile(case.body, data)).encode()
            hostile = Client(app).open(
                operation.path,
                method=operation.method.upper(),
                data=raw,
                content_type="application/json",
                headers=headers,
            )
            _check(operation.path, hostile.status_code, hostile.content_type or "", hostile.data)

    try:
        fuzz()
    finally:
        clock.set_now(None)
