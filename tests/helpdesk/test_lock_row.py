"""The console's ロック row: ロック中 only while locked, and the consecutive failures an
operator would count (the counter starts again at 0 when it locks)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from netbank import clock
from netbank.customers import lockout
from netbank.customers.models import Customer
from tests.helpdesk.factories import make_customer, make_operator, operator_login

pytestmark = pytest.mark.django_db


def fail_logins(customer: Customer, times: int) -> None:
    for _ in range(times):
        lockout.lockout_register_failure(
            kind=lockout.LOGIN_PASSWORD,
            subject=lockout.subject_for_customer(customer),
            customer=customer,
        )


def lock_rows(customer: Customer) -> list[list[str]]:
    client = operator_login(make_operator())
    html = client.get(reverse("helpdesk:customer", args=[customer.pk])).content.decode()
    section = html.split('aria-labelledby="h-locks"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>", 1)[1], re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in rows
    ]


def test_a_locked_row_shows_the_failures_that_locked_it() -> None:
    customer = make_customer()
    fail_logins(customer, settings.NETBANK_LOCKOUT["max_failures"])
    [row] = lock_rows(customer)
    assert row[1].startswith("ロック中")
    assert row[2] == str(settings.NETBANK_LOCKOUT["max_failures"])
    assert row[3] == "1"


def test_failures_below_the_limit_are_counted_without_a_lock() -> None:
    customer = make_customer()
    fail_logins(customer, 2)
    [row] = lock_rows(customer)
    assert "ロック中" not in row[1]
    assert row[2] == "2"


def test_an_expired_lock_is_no_longer_shown_as_locked() -> None:
    customer = make_customer()
    fail_logins(customer, settings.NETBANK_LOCKOUT["max_failures"])
    clock.advance(settings.NETBANK_LOCKOUT["first_lock_seconds"] + 1)
    [row] = lock_rows(customer)
    assert "ロック中" not in row[1]
    assert row[2] == "0"
    assert row[3] == "1"
