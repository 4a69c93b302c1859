"""トークン発行 screens, PC (leaflet part 1, Step 1): 申請内容選択 → 入力 → 確認 → 完了."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from netbank.audit.models import AuditRecord
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from tests.otp.test_screens_support import (
    ACTIVATION_PASSWORD,
    PHONE,
    QUESTION,
    confirm_data,
    field_error,
    input_data,
    login,
    make_customer,
    page_text,
    redirected_to,
    session_blob,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_menu_shows_leaflet_title_notes_and_buttons_for_a_new_customer() -> None:
    c = login(make_customer())
    r = c.get(reverse("otp:menu"))
    assert r.status_code == 200
    text = page_text(r)
    assert "ワンタイムパスワード申請内容選択" in text
    assert "注意事項" in text
    assert "各種お申込・手続き" in text
    assert "トークン発行" in text
    assert "ワンタイムパスワード利用開始" in text
    # Beyond the leaflet, only for a customer who already has a token in use.
    assert reverse("otp:reissue") not in text
    assert reverse("otp:cancel") not in text
    # The leaflet's button order: トークン発行, then ワンタイムパスワード利用開始.
    assert text.index(reverse("otp:issue")) < text.index(reverse("otp:start_use"))
    assert r["Cache-Control"].count("no-store") == 1


def test_menu_needs_a_logged_in_customer() -> None:
    r = Client().get(reverse("otp:menu"))
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("customers:login"))


def test_issue_happy_path_input_confirm_done_queues_both_mails() -> None:
    customer = make_customer()
    c = login(customer)
    r = c.get(reverse("otp:issue"))
    assert r.status_code == 200
    text = page_text(r)
    for label in (
        "トークン発行（入力）",
        "送付先メールアドレスの指定",
        "携帯電話メールアドレス",
        "利用開始パスワードの指定",
        "利用開始パスワード（確認用）",
        "次へ",
    ):
        assert label in text, label

    r = c.post(reverse("otp:issue"), input_data())
    assert redirected_to(r) == reverse("otp:issue_confirm")

    r = c.get(reverse("otp:issue_confirm"))
    text = page_text(r)
    assert r.status_code == 200
    for label in (
        "トークン発行（確認）",
        "送付先メールアドレス",
        PHONE,
        "確認用パスワードの入力",
        "確認用パスワード",
        "追加認証入力",
        "説明",
        QUESTION,
        "回答",
        "（全角16文字以内）",
        "確定する",
        "戻る",
        "中止する",
    ):
        assert label in text, label
    assert "softkeyboard.js" in text
    assert 'type="password"' in text  # the plain input works without JavaScript

    r = c.post(reverse("otp:issue_confirm"), confirm_data())
    assert redirected_to(r) == reverse("otp:issue_done")
    r = c.get(r["Location"])
    text = page_text(r)
    assert "トークン発行（完了）" in text
    assert "メールを送信しました" in text
    assert PHONE in text

    token = Token.objects.get(customer=customer)
    assert token.state == Token.State.ISSUED
    assert token.email == PHONE
    purposes = set(OutboxMail.objects.values_list("purpose", flat=True))
    assert {"otp_token_mail", "otp_issue_notice"} <= purposes
    assert AuditRecord.objects.filter(event="token.issued", customer_id=customer.pk).exists()
    # Nothing of the draft is left in the session.
    assert "otp_issue_draft" not in c.session


def test_activation_password_never_in_session_in_clear() -> None:
    customer = make_customer()
    c = login(customer)
    password = "73920518"
    c.post(
        reverse("otp:issue"),
        input_data(activation_password=password, activation_password_confirm=password),
    )
    assert "otp_issue_draft" in c.session
    blob = session_blob(c)
    assert password not in blob
    # Not in any common encoding either.
    import base64

    assert base64.b64encode(password.encode()).decode().rstrip("=") not in blob
    assert password.encode().hex() not in blob
    # And the raw session row in the database does not carry it.
    from django.contrib.sessions.models import Session

    row = Session.objects.get(session_key=c.session.session_key)
    assert password not in row.session_data
    assert password not in repr(row.get_decoded())

    # Still, 確定する seals exactly that password onto the token.
    c.post(reverse("otp:issue_confirm"), confirm_data())
    token = Token.objects.get(customer=customer)
    from netbank.otp import crypto

    opened = crypto.unseal(
        purpose="activation-password",
        token_id=token.pk,
        customer_id=customer.pk,
        key_id=token.activation_key_id,
        nonce=bytes(token.activation_nonce or b""),
        ciphertext=bytes(token.activation_ciphertext or b""),
    )
    assert opened == password.encode()


@pytest.mark.parametrize(
    ("overrides", "field", "message_part"),
    [
        (
            {"activation_password": "１２３４", "activation_password_confirm": "１２３４"},
            "activation_password",
            "半角数字",
        ),
        (
            {"activation_password": "123", "activation_password_confirm": "123"},
            "activation_password",
            "4～8桁",
        ),
        (
            {"activation_password": "123456789", "activation_password_confirm": "123456789"},
            "activation_password",
            "8",
        ),
        (
            {"activation_password": "12a4", "activation_password_confirm": "12a4"},
            "activation_password",
            "半角数字",
        ),
        (
            {"activation_password": "", "activation_password_confirm": ""},
            "activation_password",
            "入力してください",
        ),
        ({"activation_password_confirm": "4822"}, "activation_password_confirm", "一致しません"),
        ({"activation_password_confirm": ""}, "activation_password_confirm", "再度入力"),
        ({"email": "not-an-address"}, "email", "形式が正しくありません"),
        ({"email": "taro@localhost"}, "email", "形式が正しくありません"),
        ({"email": "ｔａｒｏ@example.jp"}, "email", "全角"),
        ({"email": ""}, "email", "入力してください"),
        ({"email": "a" * 250 + "@ex.jp"}, "email", "254"),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field_and_stores_nothing(
    overrides: dict[str, str], field: str, message_part: str
) -> None:
    customer = make_customer()
    c = login(customer)
    r = c.post(reverse("otp:issue"), input_data(**overrides))
    assert r.status_code == 400
    assert message_part in field_error(r, field), page_text(r)[:3000]
    assert "otp_issue_draft" not in c.session
    assert not Token.objects.filter(customer=customer).exists()
    assert not OutboxMail.objects.filter(purpose__startswith="otp_").exists()
    # The password fields are never sent back to the browser.
    assert ACTIVATION_PASSWORD not in r.content.decode()


@pytest.mark.parametrize("action", ["back", "cancel"])
def test_back_keeps_the_address_and_cancel_keeps_nothing(action: str) -> None:
    customer = make_customer()
    c = login(customer)
    c.post(reverse("otp:issue"), input_data())
    assert "otp_issue_draft" in c.session
    r = c.post(reverse("otp:issue_confirm"), {"action": action})
    expected = reverse("otp:issue") if action == "back" else reverse("otp:menu")
    assert redirected_to(r) == expected
    assert "otp_issue_draft" not in c.session  # the sealed 利用開始パスワード is gone
    assert not Token.objects.filter(customer=customer).exists()
    assert not OutboxMail.objects.filter(purpose__startswith="otp_").exists()
    # 戻る shows the input screen with the address entered; the 利用開始パスワード is
    # typed again (a password is never sent back to the browser). 中止する keeps nothing.
    html = c.get(reverse("otp:issue")).content.decode()
    email_input = re.search(r'<input[^>]*name="email"[^>]*>', html)
    assert email_input is not None
    assert (f'value="{PHONE}"' in email_input.group(0)) is (action == "back")
    assert ACTIVATION_PASSWORD not in html
    # Only once: the next visit of the input screen starts empty.
    assert PHONE not in c.get(reverse("otp:issue")).content.decode()
    # 確認 cannot be reached without a new input.
    r = c.get(reverse("otp:issue_confirm"))
    assert redirected_to(r) == reverse("otp:issue")
