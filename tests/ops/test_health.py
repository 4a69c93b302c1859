"""/healthz and /readyz through the real WSGI applications (not the test client, which
never passes through WSGI wrappers), each readiness check made to fail and then fixed."""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.config import wsgi, wsgi_api
from netbank.notifications.models import OutboxMail
from netbank.ops import health
from netbank.otp.activation.signing_key import signing_key_write
from tests.otp.factories import in_use_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    """As Django's test client does: a poll must not close the test's connection (and
    with it the transaction every test runs in)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def apps() -> dict[str, Any]:
    return {"web": wsgi.build(), "api": wsgi_api.build()}


def call(
    app: Any, path: str, method: str = "GET", host: str = "10.0.0.7"
) -> tuple[int, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_HOST": host,  # a load balancer polls by address: not in ALLOWED_HOSTS
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> None:
        answer["status"] = int(status.split(" ", 1)[0])
        answer["headers"] = dict(headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], body


def ready(apps: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Poll /readyz on both applications; they must agree."""
    answers = [call(app, "/readyz") for app in apps.values()]
    (status, _headers, body), other = answers
    assert (other[0], other[2]) == (status, body)
    return status, json.loads(body)


NOT_READY = 503


def test_healthz_answers_ok_without_touching_anything(
    apps: dict[str, Any], django_assert_num_queries: Any
) -> None:
    for app in apps.values():
        with django_assert_num_queries(0):
            status, headers, body = call(app, "/healthz")
        assert status == 200
        assert json.loads(body) == {"status": "ok"}
        assert headers["Cache-Control"] == "no-store"
        assert headers["Content-Type"] == "application/json"


def test_readyz_is_ok_on_a_ready_bank(apps: dict[str, Any]) -> None:
    status, body = ready(apps)
    assert (status, body) == (200, {"status": "ok"})
    _status, headers, _body = call(apps["api"], "/readyz")
    assert headers["Cache-Control"] == "no-store"


def test_only_get_and_head_are_answered(apps: dict[str, Any]) -> None:
    for app in apps.values():
        for path in ("/healthz", "/readyz"):
            status, headers, body = call(app, path, "POST")
            assert status == 405
            assert headers["Allow"] == "GET, HEAD"
            assert json.loads(body) == {"error": "GET or HEAD"}
            status, headers, body = call(app, path, "HEAD")
            assert status == 200
            assert body == b""
            assert int(headers["Content-Length"]) > 0


def test_other_paths_still_go_through_django(apps: dict[str, Any]) -> None:
    """Outside the two paths the wrapper changes nothing: ALLOWED_HOSTS still refuses an
    unknown host, and a known one gets the bank's page."""
    for app in apps.values():
        assert call(app, "/readyz/")[0] == 400  # Django's answer for the polled address
        assert call(app, "/healthz", host="testserver")[0] == 200
        status, _headers, body = call(app, "/", host="testserver")
        assert status == 200
        assert b"status" not in body[:20]


def test_a_dropped_audit_trigger_makes_the_bank_not_ready_until_it_is_back(
    apps: dict[str, Any],
) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditrecord DISABLE TRIGGER audit_record_append_only")
            status, body = ready(apps)
            cursor.execute("ALTER TABLE audit_auditrecord ENABLE TRIGGER audit_record_append_only")
            assert (status, body) == (
                NOT_READY,
                {"status": "not ready", "failed": ["audit_triggers"]},
            )
            cursor.execute("DROP TRIGGER audit_record_no_truncate ON audit_auditrecord")
            assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["audit_triggers"]})
            cursor.execute(
                "CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_auditrecord "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                "AND name = 'audit_record_no_delete'"
            )
            (sql,) = cursor.fetchone()
            cursor.execute("DROP TRIGGER audit_record_no_delete")
            assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["audit_triggers"]})
            cursor.execute(sql)
    assert ready(apps) == (200, {"status": "ok"})


def test_a_missing_or_broken_signing_key_makes_the_bank_not_ready(
    apps: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "bank_signing_key.pem"
    settings.NETBANK_SIGNING_KEY_FILE = str(key_file)
    assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["signing_key"]})
    # Polling never creates a key, as development's signing_key() would.
    assert not key_file.exists()
    signing_key_write(key_file)
    assert ready(apps) == (200, {"status": "ok"})
    key_file.unlink()  # removed under a running server: seen at the next poll
    assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["signing_key"]})
    key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    key_file.chmod(0o600)
    assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["signing_key"]})
    key_file.unlink()
    signing_key_write(key_file)
    assert ready(apps) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    "keys",
    [
        "test1:not-base64!",
        "test1:" + "QUJD" * 4,  # 12 bytes, not 32
        "no-colon-at-all",
        "a:dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE=,a:dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE=",
    ],
)
def test_wrong_otp_keys_make_the_bank_not_ready(
    apps: dict[str, Any], settings: Settings, keys: str
) -> None:
    good = settings.NETBANK_OTP_KEYS
    settings.NETBANK_OTP_KEYS = keys
    assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["otp_keys"]})
    settings.NETBANK_OTP_KEYS = good
    assert ready(apps) == (200, {"status": "ok"})


def test_a_key_of_the_right_form_that_does_not_open_the_tokens_is_not_ready(
    apps: dict[str, Any], settings: Settings
) -> None:
    """Another installation's key (or a typo in the base64) under the bank's key id."""
    in_use_token()
    good = settings.NETBANK_OTP_KEYS
    kid = good.split(":", 1)[0]
    settings.NETBANK_OTP_KEYS = f"{kid}:{base64.b64encode(bytes(range(32))).decode()}"
    assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["otp_keys"]})
    settings.NETBANK_OTP_KEYS = good
    assert ready(apps) == (200, {"status": "ok"})
    assert ready(apps) == (200, {"status": "ok"})  # kept: not looked up again


def _queued_mail(due: Any) -> OutboxMail:
    return OutboxMail.objects.create(
        created_at=due,
        purpose="test",
        from_addr="a@example.jp",
        to_addr="b@example.jp",
        subject="s",
        body="b",
        message_id=f"<{due.timestamp()}@test>",
        next_attempt_at=due,
    )


@pytest.mark.usefixtures("frozen_clock")
def test_a_stuck_outbox_makes_the_bank_not_ready(apps: dict[str, Any], settings: Settings) -> None:
    mail = _queued_mail(clock.now() - timedelta(minutes=10))
    assert ready(apps) == (200, {"status": "ok"})  # due, but not long enough to be stuck
    clock.advance(6 * 60)
    assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["outbox"]})
    settings.NETBANK_OUTBOX_STUCK_MINUTES = 30
    assert ready(apps) == (200, {"status": "ok"})
    settings.NETBANK_OUTBOX_STUCK_MINUTES = 15
    assert ready(apps)[0] == NOT_READY
    # A worker delivers it: ready again. Failed and sent mail never count.
    OutboxMail.objects.filter(pk=mail.pk).update(status=OutboxMail.Status.SENT, sent_at=clock.now())
    assert ready(apps) == (200, {"status": "ok"})
    old = _queued_mail(clock.now() - timedelta(hours=2))
    OutboxMail.objects.filter(pk=old.pk).update(status=OutboxMail.Status.FAILED)
    assert ready(apps) == (200, {"status": "ok"})


def test_unapplied_migrations_make_the_bank_not_ready(
    apps: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db.migrations.recorder import MigrationRecorder

    monkeypatch.setattr(health, "_migrations_applied", False)
    last = MigrationRecorder.Migration.objects.filter(app="audit").order_by("-id").first()
    assert last is not None
    last.delete()  # as if the newest audit migration had not run yet
    assert ready(apps) == (NOT_READY, {"status": "not ready", "failed": ["migrations"]})
    MigrationRecorder.Migration.objects.create(app=last.app, name=last.name, applied=last.applied)
    assert ready(apps) == (200, {"status": "ok"})
    assert health._migrations_applied  # remembered: later polls do not look again


def test_several_failures_are_named_together_and_nothing_else_is_said(
    apps: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    settings.NETBANK_OTP_KEYS = "broken"
    settings.NETBANK_SIGNING_KEY_FILE = str(tmp_path / "absent.pem")
    status, headers, body = call(apps["web"], "/readyz")
    assert status == NOT_READY
    assert json.loads(body) == {"status": "not ready", "failed": ["otp_keys", "signing_key"]}
    assert b"absent" not in body
    assert b"NETBANK" not in body
    assert headers["Cache-Control"] == "no-store"


def test_readiness_is_cheap(django_assert_max_num_queries: Any) -> None:
    """Polled every second by every load balancer: three queries once the migrations are
    known to be applied (plus the statement timeout on PostgreSQL, or here the savepoint
    pair inside the test's transaction)."""
    health.readiness()  # the migrations answer is kept from here on
    extra = 2 if connection.vendor == "postgresql" else 0
    with django_assert_max_num_queries(3 + extra):
        assert health.readiness() == []
