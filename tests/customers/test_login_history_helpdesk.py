"""ログイン履歴: what the helpdesk did is named as the helpdesk's, never with the
operator's address in the customer's 接続元IPアドレス column."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from netbank.customers.suspension import customer_reactivate
from netbank.helpdesk.services import emergency_suspend
from tests.helpdesk.factories import customer_login, make_customer, make_operator

pytestmark = pytest.mark.django_db

OPERATOR_ADDRESS = "192.0.2.77"
CUSTOMER_ADDRESS = "198.51.100.20"  # customer_login's client


def history_rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_helpdesk_emergency_stop_row_names_the_helpdesk_not_its_address() -> None:
    customer = make_customer()
    customer_login(customer)
    operator, supervisor = make_operator(), make_operator("supervisor")
    emergency_suspend(
        customer=customer,
        operator=operator.user,
        reason="お客さまからのお電話（カード紛失）",
        ip=OPERATOR_ADDRESS,
    )
    customer_reactivate(
        customer=customer, requested_by=operator.user.pk, approved_by=supervisor.user.pk
    )
    client = customer_login(customer)
    html = client.get(reverse("customers:login_history")).content.decode()
    assert OPERATOR_ADDRESS not in html
    rows = history_rows(html)
    stop = next(row for row in rows if row[1] == "お取引の緊急停止")
    assert stop[2:] == ["ヘルプデスク", "—"]
    restart = next(row for row in rows if row[1] == "お取引の再開")
    assert restart[2:] == ["ヘルプデスク", "—"]
    # The customer's own logins keep their address.
    assert [row[3] for row in rows if row[1] == "ログイン"] == [CUSTOMER_ADDRESS] * 2
