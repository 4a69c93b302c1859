"""各種お申込・手続き lists what docs/banking.md puts there, in the same order."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.customers.support import log_in

pytestmark = pytest.mark.django_db

BANKING_DOC = Path(__file__).resolve().parents[2] / "docs" / "banking.md"


def documented_procedures() -> list[tuple[str, str]]:
    """The (label, URL name) pairs of the docs' 各種お申込・手続き paragraph."""
    text = BANKING_DOC.read_text("utf-8")
    paragraph = re.search(
        r"\*\*各種お申込・手続き\*\* \(`customers:procedures`\)(.*?)\n\n", text, re.S
    )
    assert paragraph is not None, "docs/banking.md no longer describes 各種お申込・手続き"
    pairs = re.findall(r"(\S+) →\s+`([a-z_]+:[a-z_]+)`", paragraph.group(1))
    return [(label.strip(","), name) for label, name in pairs]


def test_the_docs_name_the_banking_settings_under_procedures() -> None:
    names = [name for _label, name in documented_procedures()]
    for name in ("banking:payees", "banking:scheduled", "banking:limit"):
        assert name in names


def test_procedures_menu_links_every_documented_entry_in_the_documented_order(
    frozen_clock: datetime,
) -> None:
    client = Client()
    log_in(client, make_customer().login_id)
    page = client.get(reverse("customers:procedures")).content.decode()
    menu = page.split('<ul class="menu">', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', menu)
    assert links == [(reverse(name), label) for label, name in documented_procedures()]


def test_each_banking_setting_in_the_menu_opens_its_screen(frozen_clock: datetime) -> None:
    from tests.banking.factories import open_account

    customer = make_customer()
    open_account(customer, balance=1_000)
    client = Client()
    log_in(client, customer.login_id)
    for name, heading in (
        ("banking:payees", "登録先一覧"),
        ("banking:scheduled", "振込予約の照会・取消"),
        ("banking:limit", "振込限度額"),
    ):
        r = client.get(reverse(name))
        assert r.status_code == 200, name
        assert f"<h1>{heading}" in r.content.decode(), name
