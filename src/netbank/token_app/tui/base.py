"""The screens' common ground: the app's limits, plain-word errors, the screen base."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.screen import Screen
from textual.widgets import Input, Static

from netbank.token_app.messages import Messages
from netbank.token_app.vault import (
    PASSPHRASE_MAX_CHARS,
    DeviceSecretMissingError,
    InvalidPinError,
    KeyringUnavailableError,
    PinDelayError,
    PinTooWeakError,
    StateFolderError,
    VaultError,
    VaultTamperedError,
    VaultWipedError,
    WrongPinError,
)

if TYPE_CHECKING:
    from netbank.token_app.client import ActivatedToken
    from netbank.token_app.install_config import InstallConfig
    from netbank.token_app.tui.app import TokenApp


# The bank voids an issue after this many wrong 利用開始パスワード (DESIGN.md).
BANK_ACTIVATION_TRIES = 5
# Lock the app again after this long without a key press (a phone app locks when put away).
IDLE_LOCK_SECONDS = 300.0

ClientFactory = Callable[["InstallConfig"], Any]
ConfigLoader = Callable[[], "InstallConfig"]
TimeChecker = Callable[[str], float]
# install_source.install_config_source, or the command line's (install_source.install_config_source)
ConfigSource = Callable[[Path | None, dict[str, str]], tuple[Path, str]]


@dataclass
class PendingToken:
    """Activated at the bank, not yet saved: waits for the app lock PIN."""

    activated: ActivatedToken
    config: InstallConfig


def _error_text(exc: Exception, msg: Messages) -> str:
    from netbank.token_app import client

    if isinstance(exc, client.InvalidInputError):
        return msg.pick(exc.message, exc.message_en)
    if isinstance(exc, client.ActivationRefusedError):
        if exc.code == "throttled":
            return msg("err_throttled")
        return msg("err_activation_refused")
    if isinstance(exc, client.UntrustedAnswerError):
        return msg("err_untrusted")
    if isinstance(exc, client.TransportError):
        return msg("err_network")
    if isinstance(exc, client.ActivationError):
        return msg.pick(exc.message, exc.message_en)
    return str(exc)


def vault_message(exc: VaultError, msg: Messages, now: float) -> str:
    if isinstance(exc, WrongPinError):
        lines = [msg("err_wrong_pin")]
        if exc.warn:
            lines.append(msg("err_wrong_pin_left", n=exc.attempts_left))
        if exc.retry_at and exc.retry_at > now:
            lines.append(msg("err_pin_wait", seconds=round(exc.retry_at - now)))
        return "\n".join(lines)
    if isinstance(exc, PinDelayError):
        lines = [msg("err_pin_wait", seconds=max(1, round(exc.wait_seconds)))]
        if exc.warn:
            lines.append(msg("err_wrong_pin_left", n=exc.attempts_left))
        return "\n".join(lines)
    if isinstance(exc, PinTooWeakError):
        return msg("err_pin_too_weak")
    if isinstance(exc, InvalidPinError):
        return msg("err_invalid_pin")
    if isinstance(exc, StateFolderError):
        return msg("err_state_dir")
    if isinstance(exc, VaultWipedError):
        return msg("err_vault_wiped")
    if isinstance(exc, KeyringUnavailableError):
        return msg("err_keyring_unavailable")
    if isinstance(exc, DeviceSecretMissingError):
        return msg("err_device_secret_missing")
    if isinstance(exc, VaultTamperedError):
        return msg("err_vault_tampered")
    key = {"vault_changed": "err_vault_changed", "vault_not_found": "err_vault_not_found"}.get(
        exc.code
    )
    return msg(key) if key else str(exc)


class AppScreen(Screen[None]):
    """A screen of the token app (typed access to the app's state)."""

    @property
    def token_app(self) -> TokenApp:
        from netbank.token_app.tui.app import TokenApp  # the app imports every screen

        app = self.app
        if not isinstance(app, TokenApp):
            raise TypeError("token app screens run inside TokenApp")
        return app


class Title(Static):
    """The leaflet's screen title bar."""


class ErrorText(Static):
    """Plain-word errors, red; empty when there is none."""

    def show(self, text: str) -> None:
        self.update(text)
        self.display = bool(text)


def pin_input(input_id: str, kind: str | None) -> Input:
    """A PIN field: digits only with a keyring; without one ("file") a passphrase too."""
    if kind == "file":
        return Input(id=input_id, password=True, max_length=PASSPHRASE_MAX_CHARS)
    return Input(id=input_id, password=True, max_length=8, restrict=r"[0-9]*")
