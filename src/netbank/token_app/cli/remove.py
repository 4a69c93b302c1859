"""``netbank-token remove``: delete a token from the vault."""

from __future__ import annotations

from netbank.token_app.cli.common import EXIT_OK, EXIT_USAGE, CliError, Run, vault_error
from netbank.token_app.vault import VaultError


def cmd_remove(run: Run) -> int:
    opened = run.unlock(run.vault())
    token = run.find(opened, run.args.token)
    if not run.args.yes:
        if run.as_json:
            raise CliError(EXIT_USAGE, "confirm_needs_yes", run.msg("err_confirm_needs_yes"))
        run.env.stderr.write(run.msg("remove_confirm", label=token.label) + "\n")
        try:
            answer = str(run.env.prompt(run.msg("prompt_remove"), secret=False))
        except EOFError:
            raise CliError(
                EXIT_USAGE, "confirm_needs_yes", run.msg("err_confirm_needs_yes")
            ) from None
        if answer.strip().lower() not in ("y", "yes", "はい"):
            run.say(run.msg("cancelled"))
            return EXIT_OK
    try:
        opened.remove(token.label)
    except VaultError as exc:
        raise vault_error(exc, run.msg, run.env.clock()) from None
    run.say(run.msg("removed", label=token.label))
    run.result({"removed": token.label})
    return EXIT_OK
