"""Reading settings from environment variables, and the local data folder.

Kept free of Django so the CLI can use it before settings are configured.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# Variables whose value could not be read, with why: settings take the default meanwhile,
# and the start-up checks (netbank.ops.checks) report each one, so settings always import.
_INVALID: dict[str, str] = {}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def record_invalid(name: str, why: str) -> None:
    _INVALID[name] = why


def invalid_values() -> dict[str, str]:
    """Each variable that could not be read, with why."""
    return dict(_INVALID)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        record_invalid(name, f"must be true or false (1/0, yes/no, on/off), not {raw!r}")
        return default
    return value in _TRUE


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        record_invalid(name, f"must be a whole number, not {raw!r}")
        return default


def data_dir() -> Path:
    """The local data folder: SQLite database, generated keys, caught mail."""
    return Path(os.environ.get("NETBANK_DATA_DIR", "var")).resolve()


def is_production() -> bool:
    return os.environ.get("NETBANK_ENV", "development").strip().lower() == "production"


def local_secret(name: str, nbytes: int = 50) -> str:
    """A secret generated once into the data folder (development and demo only).

    Production must pass secrets through the environment; see settings.
    """
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        value = secrets.token_urlsafe(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
    return path.read_text().strip()
