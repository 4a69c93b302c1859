"""The token app's terminal UI (Textual): the leaflet's phone app on a terminal.

Screens, in the leaflet's order:
  初期設定 (サービスID, ユーザID, 利用開始パスワード, 送信, 終了)
  → アプリロックについて (次へ) → 暗証番号の設定 (twice)
  → the main screen: the current code large, a bar counting down to the next one,
    a clock warning, the tokens in a list, 設定 (settings).
Next time the app opens on アプリロック解除 (the PIN).

Blocking work (the bank round trips, Argon2) runs in worker threads so the screen
keeps drawing; time comes from the app's injectable clock, so tests pin it.

One module per screen (setup, lock, main, login, signing, settings), the app in app.py,
the common ground in base.py; this package exports what callers import.
"""

from __future__ import annotations

from netbank.token_app.tui.app import TokenApp, run_tui
from netbank.token_app.tui.base import IDLE_LOCK_SECONDS, PendingToken, vault_message
from netbank.token_app.tui.lock import RefusedScreen, UnlockScreen, WipedScreen
from netbank.token_app.tui.login import DirectLoginScreen
from netbank.token_app.tui.main import MainScreen
from netbank.token_app.tui.settings import ConfirmScreen, SettingsScreen
from netbank.token_app.tui.setup import AppLockInfoScreen, PinSetScreen, SetupScreen, VoidedScreen
from netbank.token_app.tui.signing import SigningScreen
from netbank.token_app.vault import LABEL_MAX

__all__ = [
    "IDLE_LOCK_SECONDS",
    "LABEL_MAX",
    "AppLockInfoScreen",
    "ConfirmScreen",
    "DirectLoginScreen",
    "MainScreen",
    "PendingToken",
    "PinSetScreen",
    "RefusedScreen",
    "SettingsScreen",
    "SetupScreen",
    "SigningScreen",
    "TokenApp",
    "UnlockScreen",
    "VoidedScreen",
    "WipedScreen",
    "run_tui",
    "vault_message",
]
