"""A keyring backend for tests: one instance is one machine's OS keyring.

It implements keyring's backend interface, so the app's real KeyringSecretStore code
runs against it exactly as it would against the macOS Keychain or the Secret Service.
With NETBANK_TEST_KEYRING_FILE set it persists to that file, so a CLI started in a
subprocess (PYTHON_KEYRING_BACKEND=tests.token_app.keyring_backend.MachineKeyring)
sees the same "machine".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MachineKeyring(KeyringBackend):
    # Below keyring's own fail backend, so merely importing this class never makes it the
    # process's default keyring; tests install it explicitly with keyring.set_keyring().
    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._items: dict[str, str] = {}
        path = os.environ.get("NETBANK_TEST_KEYRING_FILE", "")
        self._path = Path(path) if path else None

    def _load(self) -> dict[str, str]:
        if self._path is None:
            return self._items
        try:
            data: dict[str, str] = json.loads(self._path.read_text())
        except FileNotFoundError:
            data = {}
        return data

    def _save(self, items: dict[str, str]) -> None:
        if self._path is None:
            self._items = items
        else:
            self._path.write_text(json.dumps(items))

    @staticmethod
    def _key(service: str, username: str) -> str:
        return f"{service}\0{username}"

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(self._key(service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._load()
        items[self._key(service, username)] = password
        self._save(items)

    def delete_password(self, service: str, username: str) -> None:
        items = self._load()
        if self._key(service, username) not in items:
            raise PasswordDeleteError("not found")
        del items[self._key(service, username)]
        self._save(items)

    def entries(self) -> int:
        return len(self._load())
