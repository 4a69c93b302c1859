"""The bank's long-term Ed25519 key that signs activation answers.

The private key lives in a PEM file (PKCS#8) named by ``NETBANK_SIGNING_KEY_FILE``,
readable by the app's user only; ``netbank create-signing-key`` writes it and prints
the public key that goes into the token app's install configuration. Production
refuses to start activation without the file; development and the demo create one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from netbank.config.env import is_production
from netbank.oath.activation import ed25519_public_text


class SigningKeyError(ImproperlyConfigured):
    """The signing key file is missing, unreadable, too open or not an Ed25519 key."""


@dataclass(frozen=True)
class _Cached:
    path: str
    mtime_ns: int
    key: Ed25519PrivateKey


_lock = threading.Lock()
_cache: _Cached | None = None


def signing_key_path() -> Path:
    return Path(str(settings.NETBANK_SIGNING_KEY_FILE))


def signing_key_write(path: Path, *, overwrite: bool = False) -> Ed25519PrivateKey:
    """Create a new key file with mode 0600. Refuses to replace an existing one
    unless ``overwrite`` (replacing it breaks every installed app's trust)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a private temporary file, then link it into place: another process never
    # sees a half-written key, and O_EXCL/link never follow an attacker's symlink.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise SigningKeyError(
                    f"{path} already exists; pass --force to replace it"
                ) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return key


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SigningKeyError(
            f"the bank signing key {path} does not exist; run `netbank create-signing-key`"
        ) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"the bank signing key {path} must not be readable by others (0600)")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return key


def signing_key_load() -> Ed25519PrivateKey:
    """The key as its file holds it now, never creating one (readiness checks)."""
    return _read(signing_key_path())


def signing_key() -> Ed25519PrivateKey:
    """The bank's signing key, read once per file version (a replaced file is re-read)."""
    global _cache
    path = signing_key_path()
    with _lock:
        if not path.exists() and not is_production():
            # Development and demo: make one, as settings do for the other local secrets.
            with contextlib.suppress(SigningKeyError):  # another process created it first
                signing_key_write(path)
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = -1
        cached = _cache
        if cached is not None and cached.path == str(path) and cached.mtime_ns == mtime:
            return cached.key
        key = _read(path)
        _cache = _Cached(str(path), mtime, key)
        return key


def signing_public_key_text() -> str:
    """The public key as base64url of its 32 raw bytes, as install configurations carry it."""
    return ed25519_public_text(signing_key().public_key())
