"""Texts every screen shares: one required marker (the leaflet's 【必須】) everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import netbank

SRC = Path(netbank.__file__).resolve().parent
REQUIRED_INCLUDE = SRC / "web" / "templates" / "web" / "_required.html"


def _templates() -> list[Path]:
    return sorted(p for p in SRC.glob("*/templates/**/*.html") if p != REQUIRED_INCLUDE)


def test_the_required_marker_is_written_once_and_says_the_leaflets_words() -> None:
    assert "【必須】" in REQUIRED_INCLUDE.read_text(encoding="utf-8")
    offenders = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        # A marker of its own (span.required) or a bare 必須 outside a sentence.
        if 'class="required"' in text or re.search(r"translate '(【)?必須(】)?'", text):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


@pytest.mark.django_db
def test_rendered_screens_of_every_app_show_the_same_marker(frozen_clock: object) -> None:
    from tests.banking.factories import customer_with_account
    from tests.banking.factories import login as banking_login
    from tests.otp.test_screens_support import login, make_customer

    customer_pages = login(make_customer())
    banking_pages = banking_login(customer_with_account(100_000)[0])
    pages = {
        "login": Client().get(reverse("customers:login")),
        "helpdesk login": Client().get("/helpdesk/login/"),
        "otp issue": customer_pages.get(reverse("otp:issue")),
        "furikomi": banking_pages.get(reverse("banking:furikomi_input")),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        markers = re.findall(r'<span class="required">([^<]*)</span>', html)
        assert markers, name
        assert set(markers) == {"【必須】"}, (name, markers)
