"""Where the bank's install configuration comes from, and what the app shows of its keys.

Shared by the commands (``cli``) and the screens (``tui``): neither imports the other
for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from netbank.token_app.messages import Messages
from netbank.token_app.paths import INSTALL_CONFIG_FILE_NAME, token_home

if TYPE_CHECKING:
    from netbank.token_app.install_config import InstallConfig

# Where the install configuration came from. The two development sources can point the
# app at any server and any key, so the app says loudly when one is in use.
SOURCE_OPTION = "--bank-config"
SOURCE_ENVIRONMENT = "NETBANK_TOKEN_INSTALL_CONFIG"
SOURCE_SHIPPED = "shipped"
SOURCE_DOWNLOADED = "downloaded"
DEVELOPMENT_SOURCES = (SOURCE_OPTION, SOURCE_ENVIRONMENT)


def install_config_source(
    explicit: Path | None, environ: dict[str, str], *, shipped: Path | None = None
) -> tuple[Path, str]:
    """The install configuration to use and where it comes from: --bank-config, else
    $NETBANK_TOKEN_INSTALL_CONFIG (both for development), else the one shipped inside the
    bank's own build of the app (the production default; ``shipped`` names another file),
    else install.json in the app's folder (downloaded from the bank's page, for an app
    built without one)."""
    if explicit is not None:
        return explicit, SOURCE_OPTION
    from_env = environ.get("NETBANK_TOKEN_INSTALL_CONFIG", "").strip()
    if from_env:
        return Path(from_env), SOURCE_ENVIRONMENT
    if shipped is None:
        shipped = shipped_install_config_path()
    if shipped.is_file():
        return shipped, SOURCE_SHIPPED
    return token_home() / INSTALL_CONFIG_FILE_NAME, SOURCE_DOWNLOADED


def shipped_install_config_path() -> Path:
    """Package data of the bank's build (`netbank token-install-config` writes it)."""
    return Path(__file__).with_name(INSTALL_CONFIG_FILE_NAME)


def bank_key_lines(config: InstallConfig, now: float, msg: Messages) -> list[str]:
    """What the app shows at 初期設定 so the customer can compare the key with the mail:
    the fingerprint of every key it trusts now. Raises BankKeyExpiredConfigError."""
    from netbank.oath.bankkeys import not_after_text

    lines = []
    for index, key in enumerate(config.keys_at(now)):
        lines.append(
            msg(
                "bank_key_line" if index == 0 else "bank_next_key_line",
                fingerprint=key.fingerprint,
                key_id=key.key_id,
                not_after=not_after_text(key.not_after),
            )
        )
    lines.append(msg("bank_key_compare"))
    return lines
