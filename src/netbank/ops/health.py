"""``/healthz`` and ``/readyz`` for load balancers and monitors, on both WSGI applications.

``/healthz`` says the process answers (no I/O). ``/readyz`` runs every readiness check:
the database answers, no migration is left to apply, the key-encryption keys and the
activation signing key load, the audit trail's append-only triggers are in place, and
the outbox is not stuck. The answer names the failed checks and nothing else (no
versions, no error text: the error goes to the log).

``wrap(app)`` serves both paths in front of Django, outermost: a load balancer polls by
address, which ALLOWED_HOSTS would refuse, and sessions, CSRF and the rest of the
middleware are no use to it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signals
from django.db import DatabaseError, connection, transaction

from netbank import clock
from netbank.audit.guard import guard_problems
from netbank.otp.activation.signing_key import signing_key_load, signing_key_path
from netbank.otp.crypto import keyring

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
StartResponse = Callable[..., Any]

DEFAULT_OUTBOX_STUCK_MINUTES = 15
DEFAULT_DATABASE_TIMEOUT_MS = 1000
# A loaded signing key is trusted this long; the file is looked at (stat) on every poll.
SIGNING_KEY_CACHE_SECONDS = 5.0


class CheckFailedError(Exception):
    """A readiness check found a problem (the message goes to the log only)."""


# --- the checks: each returns None when ok, or raises -----------------------------------


def check_database() -> None:
    """The database answers ``SELECT 1`` (within a short statement timeout on PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise CheckFailedError("SELECT 1 did not answer 1")


_migrations_applied = False
_migrations_lock = threading.Lock()


def check_migrations() -> None:
    """Every migration on disk is applied. Once true it stays true (migrations are not
    un-applied under a running server), so the answer is kept and costs nothing after."""
    global _migrations_applied
    if _migrations_applied:
        return
    from django.db.migrations.executor import MigrationExecutor

    with _migrations_lock:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            raise CheckFailedError(f"{len(plan)} migration(s) not applied, first {plan[0][0]}")
        _migrations_applied = True


def check_otp_keys() -> None:
    """NETBANK_OTP_KEYS parses into a key ring (kid:base64 of 32 bytes, unique kids)."""
    keyring()


# The NETBANK_OTP_KEYS value whose keys opened the tokens sealed under them.
_keys_opened: str | None = None
NEWEST_TOKENS = 50


def check_otp_keys_open() -> None:
    """Every key of the ring opens the newest token sealed under its id, among the newest
    tokens: a ring of the right form with a wrong key (a typo, another installation's key
    under the same id) is caught here, not at a customer's next OTP. Once per key-ring
    value in this process, and bounded (a few dozen rows by primary key)."""
    global _keys_opened
    raw = str(getattr(settings, "NETBANK_OTP_KEYS", "") or "")
    if _keys_opened == raw:
        return
    from netbank.otp.models import Token
    from netbank.otp.token_secret import token_secret_of

    ring = {kid for kid, _key in keyring()}
    newest = Token.objects.exclude(secret_ciphertext__isnull=True).order_by("-pk")
    fields = ("pk", "customer_id", "secret_key_id", "secret_nonce", "secret_ciphertext")
    tried: set[str] = set()
    for token in newest.only(*fields)[:NEWEST_TOKENS]:
        if token.secret_key_id in ring and token.secret_key_id not in tried:
            tried.add(token.secret_key_id)
            token_secret_of(token)  # SealError: the key under this id is not the one
    _keys_opened = raw


_signing_cache: tuple[tuple[str, int, int, int], float] | None = None


def check_signing_key() -> None:
    """The activation signing key file exists and loads as an Ed25519 key.

    The file is looked at on every poll (one ``stat``), so a removed or replaced file is
    seen at once; the key itself is parsed again when the file changed or after a few
    seconds.
    """
    global _signing_cache
    path = signing_key_path()
    try:
        info = path.stat()
    except OSError as exc:
        _signing_cache = None
        raise CheckFailedError(f"signing key {path}: {exc.strerror}") from None
    identity = (str(path), info.st_mtime_ns, info.st_ino, info.st_mode)
    cached = _signing_cache
    now = time.monotonic()
    if cached is not None and cached[0] == identity and now - cached[1] < SIGNING_KEY_CACHE_SECONDS:
        return
    _signing_cache = None
    signing_key_load()
    _signing_cache = (identity, now)


def check_audit_triggers() -> None:
    """The append-only triggers of the audit tables are in place and enabled (catalog)."""
    problems = guard_problems(connection)
    if problems:
        raise CheckFailedError("; ".join(problems))


def check_outbox() -> None:
    """No queued mail has been due for longer than NETBANK_OUTBOX_STUCK_MINUTES: a mail
    worker is delivering."""
    from netbank.notifications.models import OutboxMail

    minutes = int(getattr(settings, "NETBANK_OUTBOX_STUCK_MINUTES", DEFAULT_OUTBOX_STUCK_MINUTES))
    overdue = clock.now() - timedelta(minutes=minutes)
    if OutboxMail.objects.filter(
        status=OutboxMail.Status.PENDING, next_attempt_at__lt=overdue
    ).exists():
        raise CheckFailedError(f"queued mail due more than {minutes} minutes ago")


# Checks that need no database, then the database, then those that read it.
OFFLINE_CHECKS: dict[str, Callable[[], None]] = {
    "otp_keys": check_otp_keys,
    "signing_key": check_signing_key,
}
DATABASE_CHECKS: dict[str, Callable[[], None]] = {
    "migrations": check_migrations,
    "otp_keys": check_otp_keys_open,
    "audit_triggers": check_audit_triggers,
    "outbox": check_outbox,
}
CHECK_NAMES = tuple(dict.fromkeys(("database", *OFFLINE_CHECKS, *DATABASE_CHECKS)))


def _log(name: str, exc: BaseException) -> None:
    logger.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)


def _run(name: str, check: Callable[[], None], failed: list[str]) -> bool:
    try:
        check()
    except Exception as exc:  # any error means not ready; the reason goes to the log only
        _log(name, exc)
        failed.append(name)
        return False
    return True


def _database_checks(failed: list[str], skip: set[str]) -> None:
    """The database, then the checks that read it, in one short transaction.

    On PostgreSQL a statement timeout bounds every query, so a hung database fails the
    poll instead of holding a server thread. When the database does not answer, the
    checks that read it are not run (only ``database`` is reported). A check whose query
    fails aborts the transaction: the checks after it go on in a new one. On SQLite no
    transaction is opened: the settings BEGIN IMMEDIATE, which would take the write lock.
    """
    checks = [(name, check) for name, check in DATABASE_CHECKS.items() if name not in skip]
    if connection.vendor != "postgresql":
        if _run("database", check_database, failed):
            for name, check in checks:
                _run(name, check, failed)
        return
    timeout = int(getattr(settings, "NETBANK_READY_DB_TIMEOUT_MS", DEFAULT_DATABASE_TIMEOUT_MS))
    # Inside an enclosing transaction (tests) SET LOCAL would outlive this poll.
    limit = not connection.in_atomic_block
    remaining = [("database", check_database), *checks]
    while remaining:
        try:
            with transaction.atomic():
                if limit:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT set_config('statement_timeout', %s, true)", [str(timeout)]
                        )
                while remaining:
                    name, check = remaining.pop(0)
                    try:
                        check()
                    except Exception as exc:
                        _log(name, exc)
                        failed.append(name)
                        if name == "database":
                            remaining.clear()  # nothing else can be read
                        if name == "database" or isinstance(exc, DatabaseError):
                            raise _AbandonError from exc
        except _AbandonError:
            continue
        except DatabaseError as exc:  # BEGIN or the connection itself failed
            _log("database", exc)
            if "database" not in failed:
                failed.append("database")
            return


class _AbandonError(Exception):
    """Roll back a transaction a failed query aborted."""


def readiness() -> list[str]:
    """The names of the failed checks, in CHECK_NAMES order (empty: ready)."""
    failed: list[str] = []
    for name, check in OFFLINE_CHECKS.items():
        _run(name, check, failed)
    # A ring that does not parse opens nothing either: named once.
    _database_checks(failed, skip={"otp_keys"} & set(failed))
    return sorted(dict.fromkeys(failed), key=CHECK_NAMES.index)


# --- WSGI -------------------------------------------------------------------------------


def _answer(
    start_response: StartResponse, status: str, body: dict[str, Any], *, head: bool = False
) -> list[bytes]:
    data = json.dumps(body).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store"),
    ]
    if status.startswith("405"):
        headers.append(("Allow", "GET, HEAD"))
    start_response(status, headers)
    return [] if head else [data]


def _ready(environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Django's request lifecycle, as its handler runs it: close_old_connections (on these
    # signals) drops a connection that broke or grew too old, so a restarted database is
    # reconnected on the next poll.
    signals.request_started.send(sender=HealthApplication, environ=environ)
    try:
        failed = readiness()
    finally:
        signals.request_finished.send(sender=HealthApplication)
    if failed:
        return "503 Service Unavailable", {"status": "not ready", "failed": failed}
    return "200 OK", {"status": "ok"}


class HealthApplication:
    """``/healthz`` and ``/readyz`` answered here; every other path goes to ``app``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in (HEALTH_PATH, READY_PATH):
            result: Iterable[bytes] = self.app(environ, start_response)
            return result
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", {"error": "GET or HEAD"})
        if path == HEALTH_PATH:
            status, body = "200 OK", {"status": "ok"}
        else:
            status, body = _ready(environ)
        return _answer(start_response, status, body, head=method == "HEAD")


def wrap(app: Any) -> HealthApplication:
    return HealthApplication(app)
