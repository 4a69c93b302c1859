"""The token mail's download link: install instructions and the install configuration."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from netbank.otp.install import public_key_fingerprint
from netbank.otp.mails import app_download_url
from netbank.otp.signing_key import signing_public_key_text
from netbank.token_app.install_config import install_config_parse

pytestmark = pytest.mark.django_db


def test_the_mail_link_opens_the_download_page_without_login() -> None:
    path = urlsplit(app_download_url()).path
    r = Client().get(path)
    assert r.status_code == 200
    page = r.content.decode()
    assert "ワンタイムパスワードアプリのダウンロード" in page
    assert "pipx install 'netbank-otp[token]'" in page
    assert public_key_fingerprint(signing_public_key_text()) in page
    assert 'href="/app/install.json"' in page
    assert "認証アプリで登録" in page


def test_the_page_the_mail_links_to_does_not_warn_against_the_mails_link() -> None:
    # Reached by the URL in the bank's own mail, the page must not tell the customer not
    # to use URLs from mails; it says how to tell the bank's site instead.
    r = Client().get(urlsplit(app_download_url()).path)
    text = r.content.decode()
    assert "メールに記載されたURL" not in text
    assert "このページのアドレスが" in text
    assert app_download_url().split("/app/")[0] in text


def test_the_authenticator_alternative_is_shown_only_where_the_bank_allows_it(
    settings: object,
) -> None:
    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "allow_authenticator_apps": False}  # type: ignore[attr-defined]
    page = Client().get("/app/").content.decode()
    assert "認証アプリで登録" not in page


def test_install_json_is_what_the_token_app_reads_and_names_the_signing_key(
    settings: object,
) -> None:
    settings.NETBANK_PUBLIC_URL = "https://bank.example.jp"  # type: ignore[attr-defined]
    r = Client().get("/app/install.json")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    assert "attachment" in r["Content-Disposition"]
    config = install_config_parse(r.content)
    assert config.bank_url == "https://bank.example.jp"
    assert config.bank_public_keys == (signing_public_key_text(),)


def test_the_download_page_refuses_posts() -> None:
    assert Client().post("/app/").status_code == 405
