"""``netbank purge-otp-sessions``: finished activation sessions and old Direct login URLs."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.otp.direct_login.services import (
    direct_login_open,
    direct_login_tickets_purge,
    ticket_hash,
)
from netbank.otp.models import DirectLoginTicket
from tests.customers.factories import make_customer

pytestmark = pytest.mark.django_db


def _ticket(name: str, *, expired_ago: timedelta) -> DirectLoginTicket:
    customer = make_customer()
    expires_at = clock.now() - expired_ago
    return DirectLoginTicket.objects.create(
        customer=customer,
        token_hash=ticket_hash(name.ljust(43, "x")),
        security_counter=customer.security_counter,
        created_at=expires_at - timedelta(seconds=60),
        expires_at=expires_at,
    )


def test_purge_deletes_only_urls_expired_before_the_given_moment(frozen_clock: datetime) -> None:
    old = _ticket("old", expired_ago=timedelta(days=2))
    recent = _ticket("recent", expired_ago=timedelta(hours=1))
    live = _ticket("live", expired_ago=timedelta(seconds=-30))
    assert direct_login_tickets_purge(before=clock.now() - timedelta(days=1)) == 1
    assert set(DirectLoginTicket.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert not DirectLoginTicket.objects.filter(pk=old.pk).exists()


def test_command_keeps_a_day_so_a_late_click_is_still_refused_as_expired(
    frozen_clock: datetime,
) -> None:
    _ticket("old", expired_ago=timedelta(days=1, seconds=1))
    recent = _ticket("recent", expired_ago=timedelta(hours=23))
    out = StringIO()
    call_command("purge_otp_sessions", stdout=out)
    assert "Direct login URLs deleted: 1" in out.getvalue()
    assert "activation sessions deleted: 0" in out.getvalue()
    assert list(DirectLoginTicket.objects.values_list("pk", flat=True)) == [recent.pk]
    # The kept URL is refused with its customer on record, not as an unknown one.
    assert direct_login_open(ticket="recent".ljust(43, "x"), ip="192.0.2.8") is None
    refusal = AuditRecord.objects.get(event="direct_login.open_refused")
    assert refusal.customer_id == recent.customer_id
    assert refusal.data["reason"] == "expired"


def test_command_runs_on_an_empty_database() -> None:
    out = StringIO()
    call_command("purge_otp_sessions", stdout=out)
    assert out.getvalue().strip() == "activation sessions deleted: 0; Direct login URLs deleted: 0"
