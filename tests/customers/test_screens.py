"""トップ and 各種お申込・手続き, and the login form's accessibility wiring."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from netbank.customers.views import TOP_MENU
from tests.customers.factories import make_customer
from tests.customers.support import log_in, post_login

pytestmark = pytest.mark.django_db


def test_top_menu_links_balance_transfers_and_procedures(frozen_clock: datetime) -> None:
    client = Client()
    log_in(client, make_customer().login_id)
    page = client.get("/top/").content.decode()
    for name, label in TOP_MENU:
        assert f'<a href="{reverse(name)}">{label}</a>' in page, label
    assert "準備中" not in page
    assert '<a href="/banking/balance/">残高照会</a>' in page
    assert '<a href="/procedures/">各種お申込・手続き</a>' in page
    assert 'action="/logout/"' in page
    assert "山田 太郎 様" in page


def test_procedures_lists_otp_and_secret_questions(frozen_clock: datetime) -> None:
    client = Client()
    log_in(client, make_customer().login_id)
    page = client.get("/procedures/").content.decode()
    assert f'<a href="{reverse("otp:menu")}">ワンタイムパスワード</a>' in page
    assert '<a href="/procedures/secret-questions/">追加認証の質問の登録・変更</a>' in page


@pytest.mark.parametrize("path", ["/top/", "/procedures/", "/procedures/secret-questions/"])
def test_customer_pages_need_a_login(frozen_clock: datetime, path: str) -> None:
    r = Client().get(path)
    assert r.status_code == 302
    assert r["Location"] == "/"


def test_every_login_input_has_a_bound_label_and_its_error_is_described_by_id(
    frozen_clock: datetime,
) -> None:
    page = post_login(Client(), "ｙａｍａｄａ", "").content.decode()
    for name in ("login_id", "password"):
        assert f'<label for="id_{name}">' in page
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
        assert tag is not None
        assert f'id="id_{name}"' in tag.group(0)
        assert 'aria-invalid="true"' in tag.group(0)
        assert f'aria-describedby="id_{name}_error"' in tag.group(0)
        assert f'<p class="field-error" id="id_{name}_error">' in page
    assert 'role="alert"' in page  # the summary is announced


def test_a_correct_field_is_not_marked_invalid(frozen_clock: datetime) -> None:
    page = post_login(Client(), "yamada01", "").content.decode()
    login_id = re.search(r'<input[^>]*name="login_id"[^>]*>', page)
    assert login_id is not None
    assert "aria-invalid" not in login_id.group(0)
    assert 'value="yamada01"' in login_id.group(0)
    password = re.search(r'<input[^>]*name="password"[^>]*>', page)
    assert password is not None
    assert "value=" not in password.group(0)  # a password is never sent back


def test_login_page_is_english_when_switched(frozen_clock: datetime) -> None:
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
