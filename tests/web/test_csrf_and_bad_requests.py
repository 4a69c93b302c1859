"""CSRF on every POST form the customer can reach, and oversized or malformed posts."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from netbank.customers.models import SecretQuestion
from tests.customers.factories import PASSWORD, TRANSACTION_PASSWORD, make_customer
from tests.customers.support import log_in

pytestmark = pytest.mark.django_db

_FORM = re.compile(r"<form\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_LINK = re.compile(r'<a\b[^>]*href="([^"#?]*)"', re.IGNORECASE)
CSRF_PAGE = "画面の有効期限が切れました"
ONE_MB = 1024 * 1024


def _post_forms(page: str, path: str) -> set[str]:
    actions = set()
    for match in _FORM.finditer(page):
        attrs = dict(_ATTR.findall(match.group(1)))
        if attrs.get("method", "get").lower() == "post":
            actions.add(urljoin(path, attrs.get("action") or path))
    return actions


def _crawl(client: Client, start: list[str], limit: int = 40) -> dict[str, set[str]]:
    """Same-site pages reachable by GET from ``start`` and the POST forms on each."""
    seen: dict[str, set[str]] = {}
    queue = list(start)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or path.startswith(("/static/", "/api/")):
            continue
        r = client.get(path)
        seen[path] = set()
        if r.status_code != 200 or "text/html" not in r.get("Content-Type", ""):
            continue
        page = r.content.decode()
        seen[path] = _post_forms(page, path)
        for href in _LINK.findall(page):
            url = urljoin(path, href)
            if not urlsplit(url).netloc and url.startswith("/") and url not in seen:
                queue.append(url)
    return seen


def test_every_post_form_refuses_a_post_without_the_csrf_token(frozen_clock: datetime) -> None:
    customer = make_customer()
    browser = Client(raise_request_exception=False)
    anonymous_forms = set().union(*_crawl(browser, ["/"]).values())
    log_in(browser, customer.login_id)
    customer_forms = set().union(*_crawl(browser, ["/top/"]).values())
    forms = anonymous_forms | customer_forms
    # The forms this area owns must be among those found, or the crawl is broken.
    assert {"/", "/logout/", "/i18n/setlang/", "/session/extend"} <= forms
    assert "/procedures/secret-questions/" in forms
    attacker = Client(enforce_csrf_checks=True, raise_request_exception=False)
    attacker.cookies = browser.cookies  # the victim's session, as a cross-site post carries
    for action in sorted(forms):
        r = attacker.post(action, {"login_id": customer.login_id, "password": PASSWORD})
        assert r.status_code == 403, action
        assert CSRF_PAGE in r.content.decode(), action
    # Nothing happened: still logged in, nothing changed.
    assert browser.get("/top/").status_code == 200


def test_login_with_the_csrf_token_works_so_the_refusal_above_is_the_token(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    client = Client(enforce_csrf_checks=True)
    page = client.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/", {"login_id": customer.login_id, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert r.status_code == 302
    forged = Client(enforce_csrf_checks=True)
    forged.get("/")
    r = forged.post(
        "/", {"login_id": customer.login_id, "password": PASSWORD, "csrfmiddlewaretoken": "x" * 64}
    )
    assert r.status_code == 403


def _assert_clear_400(response: object) -> None:
    assert response.status_code == 400  # type: ignore[attr-defined]
    page = response.content.decode()  # type: ignore[attr-defined]
    assert "入力内容を受け付けられませんでした" in page
    assert "送信された内容が大きすぎるか" in page
    assert settings.NETBANK_HELPDESK["phone"] in page


def test_a_one_megabyte_urlencoded_login_post_gets_a_clear_400_page(
    frozen_clock: datetime,
) -> None:
    body = urlencode({"login_id": "a" * ONE_MB, "password": "x"})
    r = Client(raise_request_exception=False).post(
        "/", data=body, content_type="application/x-www-form-urlencoded"
    )
    _assert_clear_400(r)


def test_a_one_megabyte_multipart_login_post_gets_a_clear_400_page(
    frozen_clock: datetime,
) -> None:
    # The test client encodes dicts as multipart/form-data, as a browser form may.
    r = Client(raise_request_exception=False).post("/", {"login_id": "a" * ONE_MB, "password": "x"})
    _assert_clear_400(r)


def test_too_many_fields_get_a_clear_400_page(frozen_clock: datetime) -> None:
    data = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 10)}
    r = Client(raise_request_exception=False).post("/", data)
    _assert_clear_400(r)


def test_a_one_megabyte_post_to_a_logged_in_form_changes_nothing(frozen_clock: datetime) -> None:
    customer = make_customer()
    client = Client(raise_request_exception=False)
    log_in(client, customer.login_id)
    before = list(SecretQuestion.objects.values_list("question", "answer_hash"))
    r = client.post(
        "/procedures/secret-questions/",
        {
            "question_1": "子供の頃のあだ名は何ですか？",
            "answer_1": "あ" * ONE_MB,
            "transaction_password": TRANSACTION_PASSWORD,
        },
    )
    _assert_clear_400(r)
    assert list(SecretQuestion.objects.values_list("question", "answer_hash")) == before
    assert client.get("/top/").status_code == 200  # the session survives a refused post


def test_a_body_that_is_not_a_form_is_treated_as_an_empty_form(frozen_clock: datetime) -> None:
    r = Client().post("/", data=b"\xff\xfe\x00garbage", content_type="application/octet-stream")
    assert r.status_code == 400
    assert "ログインIDを入力してください" in r.content.decode()


def test_undecodable_form_bytes_get_a_message_not_a_500(frozen_clock: datetime) -> None:
    r = Client(raise_request_exception=False).post(
        "/",
        data=b"login_id=%ff%fe%00&password=%c3%28",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 400
