"""Owner-only, crash-safe file writes and bounded reads."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from netbank.token_app.paths import ensure_private_dir


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a crash leaves either the old or the new file.

    Temp file in the same folder (created 0600, never wider), fsync, ``os.replace``,
    then fsync of the folder so the rename itself survives a power cut.
    """
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":
        os.chmod(path, 0o600)
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_private_file(path: Path, *, limit: int) -> bytes:
    """Read at most ``limit`` bytes; tighten permissions that someone widened."""
    with open(path, "rb") as fh:
        if os.name == "posix":
            mode = os.fstat(fh.fileno()).st_mode
            if mode & 0o077:
                os.fchmod(fh.fileno(), 0o600)
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path} is larger than {limit} bytes")
    return data


def remove_file(path: Path) -> None:
    """Overwrite with random bytes, fsync, then unlink.

    On flash storage and copy-on-write file systems the old blocks may survive the
    overwrite; the vault is made useless by deleting its device secret, not by this.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError), open(path, "r+b") as fh:
        fh.write(secrets.token_bytes(size))
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink(missing_ok=True)
    if os.name == "posix":
        _fsync_dir(path.parent)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """An advisory lock on ``path`` (POSIX ``flock``), so two app windows do not interleave.

    On platforms without ``fcntl`` this is a no-op; the atomic replace still keeps
    every file whole.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
