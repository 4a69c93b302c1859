"""The device secret: the half of the vault key that is not the PIN.

A random 256-bit secret per vault, kept in the OS keyring (the ``keyring`` package:
macOS Keychain, Windows Credential Locker, the Secret Service on Linux desktops) so a
copy of the vault file alone cannot be brute-forced over the few PIN digits. Where no
usable keyring exists (keyring's ``fail``/``null`` backends, an empty chainer, or the
plaintext ``keyrings.alt`` files) the secret lives in a 0600 file in the app's state
folder (``paths.state_dir_for``), never in the folder of the vault, so a backup of that
folder does not carry both; docs/token-app.md says exactly what each case protects
against.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from pathlib import Path
from typing import Protocol

from netbank.token_app.fileio import atomic_write, read_private_file, remove_file

SECRET_BYTES = 32
KEYRING_SERVICE = "netbank-token"


class DeviceSecretError(Exception):
    """The device-secret store could not be read or written."""


class DeviceSecretStore(Protocol):
    """Where one machine keeps the device secret of its vaults, keyed by vault id."""

    @property
    def kind(self) -> str:
        """``"keyring"`` or ``"file"``; written into the vault header."""
        ...

    def load(self, vault_id: str) -> bytes | None: ...

    def store(self, vault_id: str, secret: bytes) -> None: ...

    def delete(self, vault_id: str) -> None: ...


def new_device_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def _decode_secret(text: str) -> bytes | None:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return raw if len(raw) == SECRET_BYTES else None


class KeyringSecretStore:
    """The device secret in the OS keyring, one entry per vault."""

    kind = "keyring"

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        self.service = service

    @staticmethod
    def _username(vault_id: str) -> str:
        return f"vault:{vault_id}"

    def load(self, vault_id: str) -> bytes | None:
        import keyring
        from keyring.errors import KeyringError

        try:
            text = keyring.get_password(self.service, self._username(vault_id))
        except KeyringError as exc:
            raise DeviceSecretError(f"keyring read failed: {exc}") from exc
        if text is None:
            return None
        return _decode_secret(text)

    def store(self, vault_id: str, secret: bytes) -> None:
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.set_password(
                self.service, self._username(vault_id), base64.b64encode(secret).decode("ascii")
            )
        except KeyringError as exc:
            raise DeviceSecretError(f"keyring write failed: {exc}") from exc
        # Some backends accept a write they cannot keep; read it back before trusting it.
        if self.load(vault_id) != secret:
            raise DeviceSecretError("keyring did not keep the device secret")

    def delete(self, vault_id: str) -> None:
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            keyring.delete_password(self.service, self._username(vault_id))
        except PasswordDeleteError:
            return  # already gone
        except KeyringError as exc:
            raise DeviceSecretError(f"keyring delete failed: {exc}") from exc


class FileSecretStore:
    """The fallback: the device secret in a 0600 file in the state folder, one per vault.

    ``legacy`` is where an earlier version kept it (next to the vault): found there, it
    is moved here on first use.
    """

    kind = "file"

    def __init__(self, folder: Path, *, legacy: Path | None = None) -> None:
        self.folder = folder
        self.legacy = legacy

    def path_for(self, vault_id: str) -> Path:
        return self.folder / f"{vault_id}.device-secret"

    @staticmethod
    def _read(path: Path, vault_id: str) -> bytes | None:
        try:
            raw = read_private_file(path, limit=4096)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DeviceSecretError(f"cannot read {path}: {exc}") from exc
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(doc, dict) or doc.get("vault_id") != vault_id:
            return None
        secret = doc.get("secret")
        return _decode_secret(secret) if isinstance(secret, str) else None

    def load(self, vault_id: str) -> bytes | None:
        secret = self._read(self.path_for(vault_id), vault_id)
        if secret is None and self.legacy is not None:
            secret = self._read(self.legacy, vault_id)
            if secret is not None:
                # Out of the vault's folder: written in the state folder, then removed.
                self.store(vault_id, secret)
                try:
                    remove_file(self.legacy)
                except OSError as exc:
                    raise DeviceSecretError(f"cannot delete {self.legacy}: {exc}") from exc
        return secret

    def store(self, vault_id: str, secret: bytes) -> None:
        doc = {"vault_id": vault_id, "secret": base64.b64encode(secret).decode("ascii")}
        path = self.path_for(vault_id)
        try:
            atomic_write(path, json.dumps(doc).encode("ascii") + b"\n")
        except OSError as exc:
            raise DeviceSecretError(f"cannot write {path}: {exc}") from exc

    def delete(self, vault_id: str) -> None:
        for path in (self.path_for(vault_id), self.legacy):
            if path is None or self._read(path, vault_id) is None:
                continue  # absent, or another vault's secret: not ours to delete
            try:
                remove_file(path)
            except OSError as exc:
                raise DeviceSecretError(f"cannot delete {path}: {exc}") from exc


def keyring_usable() -> bool:
    """True when ``keyring`` has a backend that really keeps secrets away from plain files."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null
    except ImportError:
        return False
    if os.environ.get("NETBANK_TOKEN_NO_KEYRING", "").strip() not in ("", "0"):
        return False
    try:
        backend = keyring.get_keyring()
    except Exception:  # keyring's own discovery can fail in many ways; all mean "no keyring"
        return False
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        backends = list(backend.backends)
        return bool(backends) and all(_real_backend(b) for b in backends)
    return _real_backend(backend)


def _real_backend(backend: object) -> bool:
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    # keyrings.alt's backends are files in the home folder (plaintext or with a
    # password typed each time): no better than our own 0600 file, so use ours.
    return not type(backend).__module__.startswith("keyrings.alt")


def new_vault_store_kind() -> str:
    """``"keyring"`` or ``"file"``: where a vault created now would keep its secret."""
    return "keyring" if keyring_usable() else "file"
