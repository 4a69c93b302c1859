"""The configuration check the worker runs before it starts.

The same rule as the web servers': a worker that would run with a wrong key, no audit
MAC key or mail over plain text in production refuses to start and says why.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks


class MisconfiguredError(Exception):
    """The settings have errors; the message lists every one."""


def refuse_to_start_if_misconfigured() -> None:
    """Run Django's system checks (with the deployment checks in production).

    Raises MisconfiguredError listing every error; warnings do not stop the worker.
    """
    messages = checks.run_checks(include_deployment_checks=bool(settings.PRODUCTION))
    errors = [m for m in messages if m.level >= checks.ERROR and not m.is_silenced()]
    if errors:
        raise MisconfiguredError(
            "the configuration has errors:\n" + "\n".join(str(error) for error in errors)
        )
