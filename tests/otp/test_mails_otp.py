"""The token mail to the phone and the notices to the registered address."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from django.conf import settings
from django.test import override_settings

from netbank import clock
from netbank.customers.models import Customer
from netbank.customers.services import secret_question_pick
from netbank.notifications.delivery import build_message
from netbank.notifications.models import OutboxMail
from netbank.oath.bankkeys import key_fingerprint
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import Token
from netbank.otp.tokens import mails, services
from tests.otp.test_screens_support import (
    ACTIVATION_PASSWORD,
    ANSWER,
    PHONE,
    TRANSACTION_PASSWORD,
    activate,
    current_code,
    make_customer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def _issue(customer: Customer, email: str = PHONE) -> Token:
    return services.token_issue(
        customer=customer, email=email, activation_password=ACTIVATION_PASSWORD, ip=None
    )


def _mail(purpose: str) -> OutboxMail:
    return OutboxMail.objects.filter(purpose=purpose).latest("id")


def test_token_mail_follows_the_leaflet_sample() -> None:
    customer = make_customer()
    token = _issue(customer)
    mail = _mail("otp_token_mail")
    assert mail.to_addr == PHONE
    assert mail.from_addr == settings.NETBANK_MAIL_FROM
    assert mail.subject == f"{settings.NETBANK_BANK_NAME}からのお知らせ"
    body = mail.body
    assert f"いつも{settings.NETBANK_BANK_NAME}をご利用いただきありがとうございます。" in body
    assert "ワンタイムパスワードアプリにサービスID、ユーザID、利用開始パスワードを入力し" in body
    assert f"サービスID: {settings.NETBANK_OTP['service_id']}" in body
    assert f"ユーザID: {token.user_id}" in body
    download = settings.NETBANK_PUBLIC_URL.rstrip("/") + settings.NETBANK_OTP["app_download_path"]
    assert download in body
    assert "下記のURLよりダウンロードしてください" in body
    assert "携帯電話の日時が正しく設定されていること" in body  # the leaflet's PC part
    assert "送信専用" in body
    assert "返信は受付できません" in body
    helpdesk = settings.NETBANK_HELPDESK
    assert helpdesk["phone"] in body
    assert helpdesk["weekday_hours"] in body
    assert helpdesk["holiday_hours"] in body
    # Never the activation password, the login ID or the customer's name.
    assert ACTIVATION_PASSWORD not in body
    assert customer.login_id not in body
    assert customer.name_kanji not in body
    # The expiry in the bank's time zone (JST): 2026-11-27 01:00 UTC + 24 h = 11/28 10:00.
    assert "2026年11月28日 10:00" in body
    # The fingerprint of the key the app trusts, to compare with what the app shows.
    fingerprint = key_fingerprint(signing_public_key_text())
    assert f"署名鍵の指紋: {fingerprint}" in body


@override_settings(
    NETBANK_MAIL_FROM="otp@otp-auth.bank.example",
    NETBANK_PUBLIC_URL="https://bank.example/",
    NETBANK_OTP={**settings.NETBANK_OTP, "service_id": "770077", "app_download_path": "/dl/app"},
    NETBANK_HELPDESK={**settings.NETBANK_HELPDESK, "phone": "0120-111-222"},
)
def test_token_mail_takes_every_value_from_settings() -> None:
    token = _issue(make_customer())
    mail = _mail("otp_token_mail")
    assert mail.from_addr == "otp@otp-auth.bank.example"
    assert "サービスID: 770077" in mail.body
    assert "https://bank.example/dl/app" in mail.body
    assert "0120-111-222" in mail.body
    assert token.user_id in mail.body


def test_issue_notice_goes_to_the_registered_address_and_says_what_to_do() -> None:
    customer = make_customer()
    _issue(customer)
    notice = _mail("otp_issue_notice")
    assert notice.to_addr == customer.email
    assert notice.from_addr == settings.NETBANK_NOTICE_FROM
    assert "トークン発行" in notice.subject
    body = notice.body
    assert customer.name_kanji in body
    assert "お心当たりがない場合" in body
    assert "緊急時のサービスの利用停止" in body
    assert f"{settings.NETBANK_HELPDESK['emergency_option']}番" in body
    assert settings.NETBANK_HELPDESK["phone"] in body
    # The phone address, masked: recognisable to the customer, not harvestable.
    assert "ui***@phone.example.jp" in body
    assert PHONE not in body
    assert ACTIVATION_PASSWORD not in body


def test_every_reissue_sends_another_notice_that_says_the_old_token_still_works() -> None:
    customer = make_customer()
    token = _issue(customer)
    activate(token)
    assert services.token_start_use(customer=customer, code=current_code(token), ip=None).started
    clock.advance(60)
    _issue(customer, email="new@phone.example.jp")
    clock.advance(60)
    _issue(customer, email="newer@phone.example.jp")
    notices = OutboxMail.objects.filter(purpose="otp_issue_notice", to_addr=customer.email)
    assert notices.count() == 3
    latest = notices.latest("id")
    assert "再発行" in latest.subject
    assert "引き続きご利用いただけます" in latest.body


def test_start_use_notice() -> None:
    customer = make_customer()
    token = _issue(customer)
    activate(token)
    services.token_start_use(customer=customer, code=current_code(token), ip=None)
    notice = _mail("otp_start_use_notice")
    assert notice.to_addr == customer.email
    assert notice.from_addr == settings.NETBANK_NOTICE_FROM
    assert "利用開始" in notice.subject
    assert "以降、ログインの際ワンタイムパスワードの入力が必要です。" in notice.body
    assert "お心当たりがない場合" in notice.body


def test_cancel_notice() -> None:
    customer = make_customer()
    token = _issue(customer)
    activate(token)
    services.token_start_use(customer=customer, code=current_code(token), ip=None)
    outcome = services.token_cancel_authorised(
        customer=customer, transaction_password=TRANSACTION_PASSWORD, ip=None
    )
    assert outcome.ok
    notice = _mail("otp_cancel_notice")
    assert notice.to_addr == customer.email
    assert "利用解除" in notice.subject
    assert "お心当たりがない場合" in notice.body


def test_mails_are_queued_in_the_issue_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """If anything after the token mail fails, neither the token nor any mail remains."""
    customer = make_customer()

    def broken(**_: object) -> None:
        raise RuntimeError("notice template missing")

    monkeypatch.setattr(mails, "issue_notice_enqueue", broken)
    question = secret_question_pick(customer=customer)
    assert question is not None
    with pytest.raises(RuntimeError):
        services.token_issue_authorised(
            customer=customer,
            email=PHONE,
            activation_password=ACTIVATION_PASSWORD,
            transaction_password=TRANSACTION_PASSWORD,
            question_id=question.pk,
            answer=ANSWER,
            ip=None,
        )
    assert not Token.objects.exists()
    assert not OutboxMail.objects.filter(purpose__startswith="otp_").exists()


def test_mails_build_as_utf8_messages_with_message_id_and_date() -> None:
    _issue(make_customer())
    for purpose in ("otp_token_mail", "otp_issue_notice"):
        row = _mail(purpose)
        raw = build_message(row).message().as_bytes()
        parsed = message_from_bytes(raw, policy=policy.default)
        assert parsed["Message-ID"] == row.message_id
        assert parsed["Date"]
        assert str(parsed["Subject"]) == row.subject
        body = parsed.get_body(preferencelist=("plain",))
        assert body is not None
        assert body.get_content_charset() == "utf-8"
        assert body.get_content().strip() == row.body.strip()


def test_mask_address() -> None:
    assert mails.mask_address("uid1723@phone.example.jp") == "ui***@phone.example.jp"
    assert mails.mask_address("a@b.jp") == "a***@b.jp"
    assert mails.mask_address("broken") == "***"
