"""``netbank-token list``: the tokens in the vault."""

from __future__ import annotations

from netbank.token_app.cli.common import EXIT_OK, Run, _token_json


def cmd_list(run: Run) -> int:
    opened = run.unlock(run.vault())
    if not opened.tokens:
        run.say(run.msg("list_empty"))
    for token in opened.tokens:
        bank = token.bank_name or token.bank_url
        run.say(
            f"{token.label}\t{run.msg('service_id')}: {token.service_id}\t"
            f"{run.msg('user_id')}: {token.user_id}\t{bank}"
        )
    run.result({"tokens": [_token_json(t) for t in opened.tokens]})
    return EXIT_OK
