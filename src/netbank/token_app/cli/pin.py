"""``netbank-token pin``: change the app-lock PIN."""

from __future__ import annotations

from netbank.token_app.cli.common import EXIT_OK, Run, vault_error
from netbank.token_app.vault import VaultError


def cmd_pin(run: Run) -> int:
    opened = run.unlock(run.vault())
    new_pin = run.read_new_pin(opened.device_secret_kind)
    try:
        opened.change_pin(new_pin)
    except VaultError as exc:
        raise vault_error(exc, run.msg, run.env.clock()) from None
    run.say(run.msg("pin_changed"))
    run.result({})
    return EXIT_OK
