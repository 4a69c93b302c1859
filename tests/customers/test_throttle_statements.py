"""Counting on an existing throttle bucket is one statement (the channel API's hot row)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from netbank.customers.throttle import throttle_hit

pytestmark = pytest.mark.django_db


def test_a_hit_on_an_existing_bucket_is_one_update_returning_the_count(
    frozen_clock: datetime,
) -> None:
    throttle_hit(scope="test", key="k", limit=2, window_seconds=60)
    with CaptureQueriesContext(connection) as queries:
        second = throttle_hit(scope="test", key="k", limit=2, window_seconds=60)
    assert len(queries.captured_queries) == 1, queries.captured_queries
    assert (second.count, second.allowed) == (2, True)
    third = throttle_hit(scope="test", key="k", limit=2, window_seconds=60)
    assert (third.count, third.allowed, third.first_refusal) == (3, False, True)


@pytest.mark.postgres_only
def test_buckets_are_unlogged_on_postgresql_and_lockout_counters_are_not() -> None:
    # An unlogged table's commit needs no WAL flush; a crash empties it, which only
    # restarts the current minute's rate limits. Lockouts must survive a crash.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relpersistence FROM pg_class WHERE relname IN "
            "('customers_throttlebucket', 'customers_failurecounter', 'audit_auditrecord')"
        )
        persistence = dict(cursor.fetchall())
    assert persistence == {
        "customers_throttlebucket": "u",
        "customers_failurecounter": "p",
        "audit_auditrecord": "p",
    }
