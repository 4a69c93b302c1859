"""The demo mailbox pages: routed only for the demo, decoded Japanese, links clickable."""

from __future__ import annotations

import importlib
import smtplib
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import clear_url_caches

from netbank.demo.mailcatcher import MailCatcher, list_mail
from netbank.notifications.delivery import deliver_due
from netbank.notifications.services import mail_enqueue

pytestmark = pytest.mark.django_db

SUBJECT = "【ネットバンク】ワンタイムパスワード トークン発行のお知らせ"
BODY = (
    "いつもネットバンクをご利用いただきありがとうございます。\n"
    "サービスID: 100001\n"
    "ユーザID: 492817365021\n"
    "アプリのダウンロード: http://127.0.0.1:8000/app/\n"
)


def _reload_urls() -> None:
    import netbank.config.urls

    importlib.reload(netbank.config.urls)
    clear_url_caches()


@pytest.fixture
def mailbox(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def demo_on(settings: Any, mailbox: Path) -> Iterator[Any]:
    """What `netbank demo` does before serving: set the flag, then (re)load the URLconf."""
    settings.NETBANK_DEMO_MAILBOX = str(mailbox)
    _reload_urls()
    try:
        yield settings
    finally:
        if hasattr(settings, "NETBANK_DEMO_MAILBOX"):
            del settings.NETBANK_DEMO_MAILBOX
        _reload_urls()


@pytest.fixture
def catcher(mailbox: Path, settings: Any) -> Iterator[MailCatcher]:
    with MailCatcher(folder=mailbox, port=0) as running:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = running.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield running


def _send_raw(port: int, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = "someone@example.jp"
    msg["To"] = "taro.yamada@example.jp"
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


def test_mail_pages_are_not_routed_without_the_demo(settings: Any) -> None:
    assert not getattr(settings, "NETBANK_DEMO_MAILBOX", "")
    client = Client()

    assert client.get("/demo/mail/").status_code == 404
    assert client.get("/demo/mail/01795862967519772231-ef0e57ed/").status_code == 404


def test_mail_pages_404_when_the_flag_goes_away_after_routing(demo_on: Any) -> None:
    client = Client()
    assert client.get("/demo/mail/").status_code == 200

    del demo_on.NETBANK_DEMO_MAILBOX

    assert client.get("/demo/mail/").status_code == 404


def test_production_settings_have_no_mailbox_flag() -> None:
    from netbank.config import settings as production_settings

    assert not hasattr(production_settings, "NETBANK_DEMO_MAILBOX")


def test_empty_mailbox_says_so(demo_on: Any) -> None:
    response = Client().get("/demo/mail/")

    assert response.status_code == 200
    assert "まだメールは届いていません。" in response.content.decode()


def test_mail_pages_are_read_only(demo_on: Any) -> None:
    client = Client(enforce_csrf_checks=True)

    assert client.head("/demo/mail/").status_code == 200
    assert client.post("/demo/mail/").status_code in {403, 405}
    assert client.delete("/demo/mail/").status_code in {403, 405}


def test_bank_mail_caught_is_listed_and_shown_decoded_with_clickable_links(
    demo_on: Any, catcher: MailCatcher, mailbox: Path, frozen_clock: datetime
) -> None:
    queued = mail_enqueue(
        to="phone@example.jp",
        subject=SUBJECT,
        body=BODY,
        purpose="token_issue",
        from_addr="netbank@otp-auth.example",
    )
    assert deliver_due().sent == 1
    files = list(mailbox.glob("*.eml"))
    assert len(files) == 1
    client = Client()

    listing = client.get("/demo/mail/")

    assert listing.status_code == 200
    assert listing["Cache-Control"].startswith("max-age=0")
    html = listing.content.decode()
    name = files[0].name.removesuffix(".eml")
    assert SUBJECT in html
    assert "netbank@otp-auth.example" in html
    assert "phone@example.jp" in html
    assert "2026-11-27 10:00:00" in html  # the Date header, in the bank's zone
    assert f'href="/demo/mail/{name}/"' in html

    detail = client.get(f"/demo/mail/{name}/")

    assert detail.status_code == 200
    page = detail.content.decode()
    assert SUBJECT in page
    assert "ユーザID: 492817365021" in page
    assert (
        '<a href="http://127.0.0.1:8000/app/" rel="nofollow">http://127.0.0.1:8000/app/</a>' in page
    )
    assert queued.message_id.strip("<>") in page


def test_newest_mail_is_listed_first(demo_on: Any, catcher: MailCatcher, mailbox: Path) -> None:
    _send_raw(catcher.port, "一通目", "first\n")
    _send_raw(catcher.port, "二通目", "second\n")

    assert [m.subject for m in list_mail(mailbox)] == ["二通目", "一通目"]
    html = Client().get("/demo/mail/").content.decode()
    assert html.index("二通目") < html.index("一通目")


def test_mail_content_is_escaped_not_rendered(
    demo_on: Any, catcher: MailCatcher, mailbox: Path
) -> None:
    _send_raw(catcher.port, "<b>件名</b>", '<script>alert("x")</script>\n')
    (name,) = [p.name.removesuffix(".eml") for p in mailbox.glob("*.eml")]
    client = Client()

    listing = client.get("/demo/mail/").content.decode()
    detail = client.get(f"/demo/mail/{name}/").content.decode()

    assert "<b>件名</b>" not in listing
    assert "&lt;b&gt;件名&lt;/b&gt;" in listing
    assert "<script>alert" not in detail
    assert "&lt;script&gt;alert" in detail


@pytest.mark.parametrize(
    "name",
    [
        "01795862967519772231-ef0e57ed",  # well-formed but not there
        "x",
        "..",
        ".01795862967519772231-ef0e57ed.tmp",
        "01795862967519772231-ef0e57ed.eml",
        "01795862967519772231-EF0E57ED",
        "%2e%2e%2fsecret",
    ],
)
def test_unknown_or_malformed_mail_names_404(demo_on: Any, mailbox: Path, name: str) -> None:
    mailbox.mkdir(parents=True, exist_ok=True)
    (mailbox.parent / "secret.eml").write_bytes(b"Subject: leaked\r\n\r\nTOPSECRET-4711\r\n")

    response = Client().get(f"/demo/mail/{name}/")

    assert response.status_code == 404
    assert b"TOPSECRET-4711" not in response.content


@pytest.mark.browser
def test_mail_pages_fit_a_phone_screen(
    demo_on: Any, catcher: MailCatcher, mailbox: Path, transactional_db: None, phone_page: Any
) -> None:
    # The mail to the phone is read on the phone: nothing may stick out sideways.
    mail_enqueue(
        to="a.very.long.mailbox.name.for.testing@mobile.phone-carrier.example.jp",
        subject=SUBJECT,
        body=BODY + "https://bank.example.jp/app/?" + "x" * 120 + "\n",
        purpose="token_issue",
        from_addr="netbank@otp-auth.example",
    )
    assert deliver_due().sent == 1
    page = phone_page
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    page.goto("/demo/mail/")
    assert page.evaluate(overflow) <= 0
    page.locator("table.mailbox a").first.click()
    page.wait_for_url("**/demo/mail/*/")
    assert page.evaluate(overflow) <= 0
