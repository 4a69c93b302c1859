"""``netbank metrics-server``: the node's Prometheus endpoint, on a private address."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.ops import exposition


class Command(BaseCommand):
    help = (
        "Serve GET /metrics for Prometheus on a private address: the counts the node's "
        "processes wrote into their multiprocess directories, and the database gauges."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            default=exposition.DEFAULT_BIND,
            help=f"HOST:PORT of a loopback or private address (default {exposition.DEFAULT_BIND})",
        )
        parser.add_argument(
            "--dir",
            dest="directories",
            action="append",
            type=Path,
            help=(
                "a multiprocess directory to read (PROMETHEUS_MULTIPROC_DIR of the web, API "
                "and worker services); repeat for each. Default: PROMETHEUS_MULTIPROC_DIR"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directories: list[Path] = options["directories"] or []
        if not directories and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            directories = [Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])]
        if not directories:
            raise CommandError(
                "name the multiprocess directories to read with --dir (or set "
                "PROMETHEUS_MULTIPROC_DIR)"
            )
        try:
            server = exposition.server(options["bind"], directories)
        except exposition.BindError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['bind']}: {exc}") from None

        def stop(signum: int, frame: FrameType | None) -> None:
            # shutdown() waits for serve_forever to return: not from its own thread.
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        port = server.server_port
        self.stdout.write(
            f"metrics on {options['bind'].rpartition(':')[0]}:{port}{exposition.PATH} "
            f"(reading {', '.join(str(d) for d in directories)})",
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        finally:
            server.server_close()
