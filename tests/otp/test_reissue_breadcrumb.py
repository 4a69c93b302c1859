"""トークン再発行's three screens say トークン再発行 in their breadcrumb too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from netbank.otp.models import Token
from tests.banking.factories import issue_token
from tests.otp.test_screens_support import confirm_data, input_data, login, make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def breadcrumb(response: Any) -> list[str]:
    html = response.content.decode()
    nav = re.search(r'<nav class="breadcrumb"[^>]*>(.*?)</nav>', html, re.S)
    assert nav is not None, html[:2000]
    return [part.strip() for part in re.sub(r"<[^>]+>", "", nav.group(1)).split("＞")]


def test_reissue_input_confirm_and_done_read_token_reissue() -> None:
    customer = make_customer()
    token, _key = issue_token(customer)
    client = login(customer, token=token)
    url = reverse("otp:reissue")
    page = client.get(url)
    assert page.status_code == 200
    assert breadcrumb(page) == ["各種お申込・手続き", "ワンタイムパスワード", "トークン再発行"]
    r = client.post(url, input_data())
    assert r.status_code == 302, r.content.decode()[:2000]
    confirm = client.get(r["Location"])
    assert "トークン再発行（確認）" in confirm.content.decode()
    assert breadcrumb(confirm)[-1] == "トークン再発行"
    r = client.post(r["Location"], confirm_data())
    assert r.status_code == 302, r.content.decode()[:2000]
    done = client.get(r["Location"])
    assert "トークン再発行（完了）" in done.content.decode()
    assert breadcrumb(done)[-1] == "トークン再発行"
    assert Token.objects.filter(customer=customer).count() == 2


def test_a_first_issue_still_reads_token_issue() -> None:
    client = login(make_customer())
    page = client.get(reverse("otp:issue"))
    assert breadcrumb(page)[-1] == "トークン発行"
