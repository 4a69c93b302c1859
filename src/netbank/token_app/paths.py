"""Where the token app keeps its files.

``$NETBANK_TOKEN_HOME`` if set, else ``$XDG_DATA_HOME/netbank-token``, else
``~/.local/share/netbank-token``. The folder is created owner-only (0700).
"""

from __future__ import annotations

import os
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


def device_secret_file_for(vault_path: Path) -> Path:
    """The fallback device-secret file that sits next to a vault (no usable keyring)."""
    return vault_path.with_name(vault_path.stem + ".device-secret")


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
