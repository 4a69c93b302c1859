from __future__ import annotations

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from netbank import clock
from netbank.customers import lockout
from netbank.customers.models import FailureCounter, ThrottleBucket
from tests.customers.factories import make_customer
from tests.customers.support import post_login

pytestmark = pytest.mark.django_db


def test_purge_removes_old_windows_and_idle_unknown_id_counters_only(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    post_login(Client(), "ghost00001", "x", ip="192.0.2.1")  # idle unknown ID
    # An unknown ID locked for good (three locks within a day): kept, like a real lock.
    for wait in (31 * 60, 61 * 60, 0):
        for _ in range(5):
            post_login(Client(), "ghost00002", "x", ip="192.0.2.2")
        clock.advance(wait)
    post_login(Client(), customer.login_id, "x", ip="192.0.2.3")  # a real customer
    clock.advance(25 * 3600)
    post_login(Client(), "ghost00003", "x", ip="192.0.2.4")  # recent unknown ID
    out = StringIO()
    call_command("purge_login_counters", stdout=out)
    subjects = set(FailureCounter.objects.values_list("subject", flat=True))
    assert lockout.subject_for_login_id("ghost00001") not in subjects
    assert lockout.subject_for_login_id("ghost00002") in subjects
    assert lockout.subject_for_login_id("ghost00003") in subjects
    assert lockout.subject_for_customer(customer) in subjects
    assert set(ThrottleBucket.objects.values_list("key", flat=True)) == {"login:192.0.2.4"}
    assert "unknown-ID counters deleted: 1" in out.getvalue()
