"""``netbank export-audit --format jsonl [--since WHEN] [--output FILE]``.

One JSON object per line, every stored field, in insert order. ``--since`` takes an
ISO 8601 time with its UTC offset (``2026-11-27T09:00+09:00``) or a date, which means
00:00 of that day in the bank's time zone (TIME_ZONE, Asia/Tokyo).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.audit.export import audit_export_lines


def parse_since(text: str) -> datetime:
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(settings.TIME_ZONE))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--since {text!r} is neither a date (2026-11-27) nor an ISO time with offset "
            "(2026-11-27T09:00+09:00)"
        ) from None
    if moment.tzinfo is None:
        raise CommandError(f"--since {text!r} needs a UTC offset, e.g. {text}+09:00")
    return moment


class Command(BaseCommand):
    help = "Export the audit trail as JSON Lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["jsonl"], default="jsonl")
        parser.add_argument("--since", default=None, help="a date or an ISO time with offset")
        parser.add_argument("--output", type=Path, default=None, help="file (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        since = parse_since(options["since"]) if options["since"] else None
        lines = audit_export_lines(since=since)
        count = 0
        if options["output"] is None:
            for line in lines:
                self.stdout.write(line)
                count += 1
        else:
            try:
                fh = options["output"].open("x", encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot create {options['output']}: {exc.strerror}") from None
            with fh:
                for line in lines:
                    fh.write(line + "\n")
                    count += 1
        self.stderr.write(f"{count} audit records exported")
