"""``netbank worker``: run every periodic job of the bank on its schedule until stopped.

Run one per node (systemd: deploy/systemd/netbank-worker.service); on PostgreSQL any
number may run at once and each job still runs once a period. On SQLite one worker runs
alone: a second one refuses to start. SIGTERM or Ctrl-C: the job in hand finishes, no new
one starts, exit status 0.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.ops.checks import refuse_to_start_if_misconfigured
from netbank.ops.worker.locks import WorkerAlreadyRunningError, sole_worker
from netbank.ops.worker.runner import DEFAULT_TURN_SECONDS, Runner
from netbank.ops.worker.schedule import worker_jobs


class Command(BaseCommand):
    help = (
        "Run every periodic job (mail delivery, 振込予約, audit checkpoints, purges, daily "
        "checks) on its schedule, once a period across all workers, until SIGTERM."
    )
    # The checks run in handle(), with the deployment checks in production.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one turn over the jobs, then exit")
        parser.add_argument(
            "--turn-seconds",
            type=float,
            default=DEFAULT_TURN_SECONDS,
            help="seconds between turns over the jobs",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        turn = options["turn_seconds"]
        if turn <= 0:
            raise CommandError("--turn-seconds must be positive")
        # The servers' rule: every configuration error on stderr, exit status 1.
        refuse_to_start_if_misconfigured()

        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        runner = Runner(worker_jobs(), stop=stop, say=self._say, turn_seconds=turn)
        try:
            with sole_worker():
                previous = {
                    sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
                }
                try:
                    self._say(
                        f"worker {runner.name}: {len(runner.jobs)} jobs; SIGTERM or Ctrl-C to stop"
                    )
                    if options["once"]:
                        runner.run_turn()
                    else:
                        runner.run_forever()
                finally:
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)
        except WorkerAlreadyRunningError as exc:
            raise CommandError(str(exc)) from None
        self._say("worker: stopped")

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
