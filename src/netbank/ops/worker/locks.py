"""One worker of many runs a job: PostgreSQL advisory locks; on SQLite, one worker only.

``job_lock`` takes a session-level ``pg_try_advisory_lock`` keyed by the job's name, so
workers on any number of nodes never run the same job at once; a worker that finds the
lock taken skips the job for this turn (the holder is running it). A session lock, not a
transaction lock: the jobs commit in several transactions of their own. It needs a real
database session, so the worker connects to PostgreSQL directly (or through a pooler in
session mode), never through a transaction-mode pooler. If the worker's connection
breaks, PostgreSQL releases the lock.

SQLite has no such locks: ``sole_worker`` holds an exclusive file lock next to the
database file for as long as the worker runs, and a second worker refuses to start.
"""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# The first half of every worker lock's key ("nb"): other programs sharing the database
# use their own.
LOCK_NAMESPACE = 0x6E62


class WorkerAlreadyRunningError(Exception):
    """Another worker holds the SQLite database's worker lock."""


def lock_key(job: str) -> int:
    """The job's name as the signed 32-bit second half of its advisory lock key."""
    value = zlib.crc32(job.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


def uses_advisory_locks() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def job_lock(job: str) -> Iterator[bool]:
    """Yield True while this worker holds ``job``'s lock, False if another worker has it."""
    if not uses_advisory_locks():
        yield True  # SQLite: the worker runs alone (sole_worker)
        return
    key = lock_key(job)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, key])
        row = cursor.fetchone()
    if not row or not row[0]:
        yield False
        return
    try:
        yield True
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, key])
        except DatabaseError:
            # The connection broke: PostgreSQL ended the session, and the lock with it.
            logger.warning("worker: could not release the lock of %s (connection lost)", job)


def sqlite_lock_path() -> Path | None:
    """The worker's lock file next to the SQLite database, None on PostgreSQL."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return None
    return Path(f"{name}.worker.lock")


@contextmanager
def sole_worker() -> Iterator[None]:
    """On SQLite, hold the database's worker lock for the block; elsewhere do nothing."""
    path = sqlite_lock_path()
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerAlreadyRunningError(
                f"another worker already runs on this SQLite database ({path}); on SQLite "
                "only one worker may run (use PostgreSQL for several)"
            ) from None
        yield
    finally:
        os.close(fd)
