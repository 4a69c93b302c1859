from __future__ import annotations

from django.db import models


class JobRun(models.Model):
    """One period's run of a periodic job, written by the worker that ran it.

    The unique (job, period_start) pair is what makes a period's run happen once however
    many workers run: a worker runs a job only under the job's advisory lock and only when
    no row for the current period exists yet.
    """

    class Outcome(models.TextChoices):
        OK = "ok", "ok"
        FAILED = "failed", "failed"

    job = models.CharField(max_length=64)
    period_start = models.DateTimeField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # Which worker ran it (host and process id), for the operator reading the table.
    worker = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "period_start"], name="ops_jobrun_once")
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.period_start.isoformat()} {self.outcome}"
