"""``netbank-token code``: the current code of a token."""

from __future__ import annotations

from netbank.token_app.cli.common import EXIT_OK, Run, current_view, warn_clock_skew


def cmd_code(run: Run) -> int:
    opened = run.unlock(run.vault())
    token = run.find(opened, run.args.token)
    view = current_view(run, token)
    run.say(view.code)
    run.warn(run.msg("seconds_left", seconds=view.whole_seconds_left))
    warn_clock_skew(run, view)
    run.result(
        {
            "label": token.label,
            "code": view.code,
            "seconds_left": view.whole_seconds_left,
            "period": view.period,
            "clock_skew_seconds": round(view.skew_seconds, 1),
            "clock_skew_warning": view.skew_warning,
        }
    )
    return EXIT_OK
