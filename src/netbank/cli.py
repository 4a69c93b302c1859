"""The ``netbank`` console script: Django's management commands plus the project's own."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbank.config.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and "-" in args[0] and not args[0].startswith("-"):
        args[0] = _command_name(args[0])
    execute_from_command_line(["netbank", *args])


def _command_name(name: str) -> str:
    """``netbank rotate-otp-key`` runs Django's ``rotate_otp_key`` command."""
    import django
    from django.core.management import get_commands

    django.setup()
    commands = get_commands()
    underscored = name.replace("-", "_")
    return underscored if name not in commands and underscored in commands else name


if __name__ == "__main__":
    main()
