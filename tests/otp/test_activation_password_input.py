"""The 利用開始パスワード inputs let the server see what was typed: a 9-digit password
is not cut to 8 by the browser (and then accepted as a password never typed) but reaches
the server, which refuses it with the field's message (4～8桁)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.otp.test_phone_support import phone_client, phone_login
from tests.otp.test_screens_support import login, make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

APPLY = "/sp/otp/apply/"


def _activation_inputs(html: str) -> list[str]:
    tags = re.findall(r"<input\b[^>]*>", html)
    found = [t for t in tags if re.search(r'name="activation_password(_confirm)?"', t)]
    assert len(found) == 2, tags
    return found


def _assert_nine_digits_get_through(tags: list[str]) -> None:
    for tag in tags:
        assert 'inputmode="numeric"' in tag
        limit = re.search(r'maxlength="(\d+)"', tag)
        # A limit, if any, well above the 8 digits allowed, so that a 9th digit typed
        # reaches the server and is refused there with a message.
        assert limit is None or int(limit.group(1)) >= 32, tag


def test_pc_issue_input_does_not_cut_the_activation_password() -> None:
    c: Client = login(make_customer())
    html = c.get(reverse("otp:issue")).content.decode()
    _assert_nine_digits_get_through(_activation_inputs(html))


def test_sli012_does_not_cut_the_activation_password() -> None:
    client = phone_client()
    phone_login(client, make_customer())
    html = client.get(APPLY).content.decode()
    _assert_nine_digits_get_through(_activation_inputs(html))
