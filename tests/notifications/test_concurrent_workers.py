"""Several delivery workers on one PostgreSQL: every row exactly once, locked rows skipped."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from netbank.notifications.delivery import DeliveryReport, deliver_due
from netbank.notifications.models import OutboxMail
from netbank.notifications.services import mail_enqueue
from tests.notifications.conftest import SmtpServer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and SKIP LOCKED")


def _enqueue(n: int) -> list[OutboxMail]:
    return [
        mail_enqueue(
            to=f"customer{i}@example.jp",
            subject=f"【ネットバンク】お知らせ {i}",
            body="ログインがありました。\n",
            purpose="login_notice",
        )
        for i in range(n)
    ]


def _in_thread(target: Callable[[], Any], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_workers_deliver_n_rows_exactly_n_times(smtp_server: SmtpServer) -> None:
    rows = _enqueue(24)
    smtp_server.handler.gate = 2  # the first two messages wait for each other
    start = threading.Barrier(2)
    reports: dict[str, list[DeliveryReport]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def worker(name: str) -> Callable[[], None]:
        def loop() -> None:
            start.wait(timeout=15)
            while True:
                report = deliver_due(batch_size=3)
                reports[name].append(report)
                if report.handled == 0:
                    return

        return loop

    threads = [_in_thread(worker(name), errors) for name in ("a", "b")]
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []

    assert smtp_server.handler.gate_met  # both workers were mid-send at the same moment
    sent_by = {name: sum(r.sent for r in rs) for name, rs in reports.items()}
    assert sent_by["a"] > 0
    assert sent_by["b"] > 0
    assert sent_by["a"] + sent_by["b"] == len(rows)
    ids = Counter(r.message()["Message-ID"] for r in smtp_server.handler.received)
    assert ids == Counter({row.message_id: 1 for row in rows})
    assert set(OutboxMail.objects.values_list("status", flat=True)) == {OutboxMail.Status.SENT}
    assert set(OutboxMail.objects.values_list("attempts", flat=True)) == {1}


def test_a_row_locked_by_another_worker_is_skipped_not_waited_for(
    smtp_server: SmtpServer,
) -> None:
    first, *others = _enqueue(4)
    locked = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def hold_lock() -> None:
        # Another worker in the middle of its claim transaction on the oldest row.
        with transaction.atomic():
            OutboxMail.objects.select_for_update().get(pk=first.pk)
            locked.set()
            release.wait(timeout=30)

    holder = _in_thread(hold_lock, errors)
    try:
        assert locked.wait(timeout=15)
        with connection.cursor() as cursor:
            # Waiting for the lock would be the bug: fail fast instead of hanging.
            cursor.execute("SET lock_timeout = '3s'")
        report = deliver_due(batch_size=10)
    finally:
        release.set()
        holder.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert errors == []

    assert report.sent == len(others)
    delivered = {r.message()["Message-ID"] for r in smtp_server.handler.received}
    assert delivered == {row.message_id for row in others}
    assert OutboxMail.objects.get(pk=first.pk).status == OutboxMail.Status.PENDING

    assert deliver_due().sent == 1  # once released, the skipped row goes out too
    assert len(smtp_server.handler.received) == len(others) + 1
