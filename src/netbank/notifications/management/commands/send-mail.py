# ruff: noqa: N999 - the command is `netbank send-mail`, as the operations docs call it
"""`netbank send-mail`: deliver the mail outbox over SMTP.

``--once`` runs one pass (cron, tests); without it the worker polls until Ctrl-C or
SIGTERM, finishing the row in hand before it exits. Run as many as you like.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.notifications.delivery import deliver_due, run_worker


class Command(BaseCommand):
    help = "Deliver queued mail over SMTP (one pass with --once, else poll until stopped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one pass and exit")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between polls (default: NETBANK_MAIL_POLL_SECONDS)",
        )
        parser.add_argument("--batch-size", type=int, default=20, help="rows per pass")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        interval = options["interval"]
        if interval is not None and interval <= 0:
            raise CommandError("--interval must be positive")
        if options["once"]:
            report = deliver_due(batch_size=batch_size)
            self.stdout.write(str(report))
            return

        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        self.stdout.write(
            f"send-mail: delivering to {settings.EMAIL_HOST}:{settings.EMAIL_PORT}; Ctrl-C to stop"
        )
        self.stdout.flush()
        try:
            run_worker(stop=stop, poll_seconds=interval, batch_size=batch_size)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("send-mail: stopped")
