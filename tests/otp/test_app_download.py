"""The token mail's download link: install instructions and the install configuration."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from netbank import clock
from netbank.oath.activation import ed25519_public_text
from netbank.oath.bankkeys import key_fingerprint, key_id_for, not_after_parse
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.tokens.mails import app_download_url
from netbank.token_app.install_config import install_config_parse

pytestmark = pytest.mark.django_db


def test_the_mail_link_opens_the_download_page_without_login() -> None:
    path = urlsplit(app_download_url()).path
    r = Client().get(path)
    assert r.status_code == 200
    page = r.content.decode()
    assert "ワンタイムパスワードアプリのダウンロード" in page
    assert "pipx install netbank-token" in page
    public = signing_public_key_text()
    assert f'<code id="key-fingerprint">{key_fingerprint(public)}</code>' in page
    assert f'<code id="key-id">{key_id_for(public)}</code>' in page
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
    assert config.bank_key.public_key == signing_public_key_text()
    assert config.next_bank_key is None
    # Trusted for a limited time only: two years from the key file unless configured.
    assert config.bank_key.valid_at(clock.timestamp())
    assert not config.bank_key.valid_at(clock.timestamp() + 731 * 86400)


def test_install_json_announces_the_configured_expiry_and_next_key(settings: object) -> None:
    following = ed25519_public_text(Ed25519PrivateKey.generate().public_key())
    settings.NETBANK_SIGNING_KEY_INFO = {  # type: ignore[attr-defined]
        "key_id": "bank-2026",
        "not_after": "2027-06-30T23:59:59Z",
        "next_public_key": following,
        "next_key_id": "bank-2027",
        "next_not_after": "2029-06-30T23:59:59Z",
    }
    config = install_config_parse(Client().get("/app/install.json").content)
    assert config.bank_key.key_id == "bank-2026"
    assert config.bank_key.not_after == not_after_parse("2027-06-30T23:59:59Z")
    assert config.next_bank_key is not None
    assert config.next_bank_key.key_id == "bank-2027"
    assert config.next_bank_key.public_key == following
    page = Client().get("/app/").content.decode()
    assert '<code id="key-id">bank-2026</code>' in page
    assert '<code id="key-not-after">2027-06-30T23:59:59Z</code>' in page
    assert f'<code id="next-key-fingerprint">{key_fingerprint(following)}</code>' in page


def test_the_download_page_refuses_posts() -> None:
    assert Client().post("/app/").status_code == 405
