"""The gauges read at scrape time: the outbox, 振込予約 lag, the audit checkpoint's age and
readiness. Their truth is in the database and the checkpoint directory, not in any one
process, so the metrics server reads them when Prometheus asks (docs/operations.md,
"Metrics").
"""

from __future__ import annotations

import importlib
import json
import logging
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from pathlib import Path

from django.db import DatabaseError
from django.db.models import Count, Min
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from netbank import clock
from netbank.audit import checkpoints
from netbank.banking.business_days import JST, today_jst
from netbank.banking.models import Transfer
from netbank.notifications.models import OutboxMail

logger = logging.getLogger(__name__)

# The outbox states that are worth watching; sent rows are history (and the most rows).
OUTBOX_STATES = (
    OutboxMail.Status.PENDING,
    OutboxMail.Status.SENDING,
    OutboxMail.Status.FAILED,
    OutboxMail.Status.UNCERTAIN,
)


# The name of the readiness gauge (one series a check of netbank.ops.health).
READY = "netbank_ready"


def outbox_counts() -> dict[str, int]:
    """Mails per state of OUTBOX_STATES (0 for a state with none)."""
    counts = dict.fromkeys((str(s) for s in OUTBOX_STATES), 0)
    rows = (
        OutboxMail.objects.filter(status__in=OUTBOX_STATES)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def outbox_oldest_due_seconds(now: datetime) -> float:
    """How long the oldest pending mail has been due (0 when none is)."""
    due = OutboxMail.objects.filter(
        status=OutboxMail.Status.PENDING, next_attempt_at__lte=now
    ).aggregate(oldest=Min("next_attempt_at"))["oldest"]
    return 0.0 if due is None else max(0.0, (now - due).total_seconds())


def scheduled_transfer_lag_seconds(now: datetime) -> float:
    """How long the oldest due 振込予約 has waited: seconds since the start (in Japan) of
    its day, for a transfer still scheduled on or after its day; 0 when none waits."""
    oldest = Transfer.objects.filter(
        state=Transfer.State.SCHEDULED, scheduled_for__lte=today_jst()
    ).aggregate(oldest=Min("scheduled_for"))["oldest"]
    if oldest is None:
        return 0.0
    due_at = datetime.combine(oldest, time(0), tzinfo=JST)
    return max(0.0, (now - due_at).total_seconds())


def newest_checkpoint_at(directory: Path) -> datetime | None:
    """The time of the newest line in the checkpoint files, or None when there is none.

    Only the time is read (the last line of the newest file); ``netbank verify-audit``
    checks the lines' MACs."""
    files = sorted(p for p in directory.glob(checkpoints.FILE_GLOB) if p.is_file())
    for path in reversed(files):
        lines = [line for line in path.read_text("utf-8", errors="replace").splitlines() if line]
        for raw in reversed(lines):
            try:
                at = datetime.fromisoformat(json.loads(raw)["at"])
            except (ValueError, KeyError, TypeError):
                continue  # a damaged line: verify-audit reports it
            return at if at.tzinfo else at.replace(tzinfo=UTC)
    return None


def checkpoint_age_seconds(now: datetime) -> float:
    """Seconds since the newest audit checkpoint; +Inf when there is none."""
    at = newest_checkpoint_at(checkpoints.checkpoint_dir())
    return math.inf if at is None else max(0.0, (now - at).total_seconds())


def readiness() -> dict[str, bool] | None:
    """Each readiness check's result (``netbank.ops.health``), or None where the bank has
    no readiness checks."""
    try:
        health = importlib.import_module("netbank.ops.health")
    except ImportError:
        return None
    failed = set(health.readiness())
    return {name: name not in failed for name in health.CHECK_NAMES}


class DatabaseGauges(Collector):
    """Reads the gauges on every scrape. A gauge that cannot be read is left out of the
    answer (and logged), so one failing source never hides the others."""

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        yield from self._guarded("outbox", self._outbox, now)
        yield from self._guarded("scheduled transfers", self._transfers, now)
        yield from self._guarded("audit checkpoint", self._checkpoint, now)
        yield from self._guarded("readiness", self._ready, now)

    @staticmethod
    def _guarded(
        what: str, read: Callable[[datetime], list[Metric]], now: datetime
    ) -> list[Metric]:
        try:
            return read(now)
        except (DatabaseError, OSError) as exc:
            logger.warning("metrics: %s not read: %s: %s", what, type(exc).__name__, exc)
            return []

    @staticmethod
    def _outbox(now: datetime) -> list[Metric]:
        mails = GaugeMetricFamily(
            "netbank_outbox_mails",
            "Outbox mails by state: pending (the queue), sending, failed, uncertain.",
            labels=["state"],
        )
        for state, count in outbox_counts().items():
            mails.add_metric([state], count)
        oldest = GaugeMetricFamily(
            "netbank_outbox_oldest_due_seconds",
            "Seconds the oldest pending mail has been due (0: none waits).",
            value=outbox_oldest_due_seconds(now),
        )
        return [mails, oldest]

    @staticmethod
    def _transfers(now: datetime) -> list[Metric]:
        return [
            GaugeMetricFamily(
                "netbank_scheduled_transfer_lag_seconds",
                "Seconds the oldest due 振込予約 has waited since its day began in Japan "
                "(0: none waits).",
                value=scheduled_transfer_lag_seconds(now),
            )
        ]

    @staticmethod
    def _checkpoint(now: datetime) -> list[Metric]:
        return [
            GaugeMetricFamily(
                "netbank_audit_checkpoint_age_seconds",
                "Seconds since the newest audit checkpoint (+Inf: none yet).",
                value=checkpoint_age_seconds(now),
            )
        ]

    @staticmethod
    def _ready(now: datetime) -> list[Metric]:
        results = readiness()
        if results is None:
            return []
        ready = GaugeMetricFamily(
            READY, "Readiness checks (/readyz): 1 passes, 0 fails.", labels=["check"]
        )
        for name, ok in results.items():
            ready.add_metric([name], 1.0 if ok else 0.0)
        return [ready]
