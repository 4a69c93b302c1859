"""Where the token app keeps its files.

The data folder (the vault, the install configuration): ``$NETBANK_TOKEN_HOME`` if set,
else ``$XDG_DATA_HOME/netbank-token``, else ``~/.local/share/netbank-token``.

The state folder (the device secret where no keyring exists, and the wrong-PIN counter):
``$NETBANK_TOKEN_SECRET_DIR`` if set, else ``$XDG_STATE_HOME/netbank-token``, else
``~/.local/state/netbank-token``. It is never inside the data folder, so a backup or copy
of the data folder carries neither the secret nor the counter.

Both are created owner-only (0700).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_DIR_NAME = "netbank-token"
VAULT_FILE_NAME = "vault.json"
INSTALL_CONFIG_FILE_NAME = "install.json"


def token_home() -> Path:
    explicit = os.environ.get("NETBANK_TOKEN_HOME", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / APP_DIR_NAME
    return Path.home() / ".local" / "share" / APP_DIR_NAME


def default_vault_path() -> Path:
    return token_home() / VAULT_FILE_NAME


def legacy_device_secret_file_for(vault_path: Path) -> Path:
    """Where earlier versions kept the device secret without a keyring: next to the vault.
    Read once to move it to the state folder (``state_dir_for``), then deleted."""
    return vault_path.with_name(vault_path.stem + ".device-secret")


class StateDirError(ValueError):
    """The state folder is inside the data folder (or the vault's own folder)."""


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    explicit = env.get("NETBANK_TOKEN_SECRET_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_STATE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / APP_DIR_NAME
    return Path.home() / ".local" / "state" / APP_DIR_NAME


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def state_dir_for(vault_path: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The state folder for a vault, refused if a backup of the vault's folder (or of the
    data folder) would carry it along."""
    folder = state_dir(environ).resolve()
    for data in (vault_path.parent.resolve(), token_home().resolve()):
        if _inside(folder, data):
            raise StateDirError(
                f"the device-secret folder {folder} is inside the app's data folder {data}; "
                "set NETBANK_TOKEN_SECRET_DIR to a folder outside it"
            )
    return folder


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` owner-only (0700) if it is missing.

    An existing folder is left as it is (the customer may have pointed
    NETBANK_TOKEN_HOME at a folder of their own); the files in it are 0600 anyway.
    """
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
