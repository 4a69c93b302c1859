"""Leaflet part 2, Step 1: a smartphone login without OTP lands on SLI012.

ワンタイムパスワード利用申請 (screen ID SLI012): the leaflet's fields, texts and
buttons; 確定する issues the token through the PC journey's service (same mail, same
notice); 中止する and 戻る; the mandatory setting; and the rule that the device, not
the chosen layout, decides.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import FailureCounter
from netbank.notifications.models import OutboxMail
from netbank.otp.models import Token
from netbank.otp.tokens.mails import PURPOSE_ISSUE_NOTICE, PURPOSE_TOKEN_MAIL
from netbank.web import device
from tests.otp.factories import in_use_token
from tests.otp.test_phone_support import (
    ACTIVATION_PASSWORD,
    ANDROID_TABLET_UA,
    ANDROID_UA,
    ANSWER,
    IPAD_UA,
    IPHONE_UA,
    PC_UA,
    PHONE_MAIL,
    QUESTION,
    apply_data,
    location,
    make_customer,
    page_text,
    phone_client,
    phone_login,
    post_password,
    visible_text,
)

pytestmark = pytest.mark.django_db

APPLY = "/sp/otp/apply/"
APPLY_DONE = "/sp/otp/apply/done/"
TOP = "/top/"


@pytest.fixture
def mandatory(settings: SettingsWrapper) -> None:
    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "mandatory": True}


def _in_sli012(client: Client) -> str:
    r = client.get(APPLY)
    assert r.status_code == 200, location(r)
    return page_text(r)


def _logged_in(client: Client) -> bool:
    r = client.get(TOP)
    return r.status_code == 200


# --- device detection ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ua", "phone"),
    [
        (IPHONE_UA, True),
        (ANDROID_UA, True),
        (PC_UA, False),
        (IPAD_UA, False),
        (ANDROID_TABLET_UA, False),
        ("", False),
        (None, False),
        ("x" * 5000 + "iPhone", False),  # not a browser's User-Agent: not read to the end
    ],
)
def test_smartphone_is_told_apart_by_its_user_agent(ua: str | None, phone: bool) -> None:
    assert device.is_smartphone(ua) is phone


# --- the forced route ------------------------------------------------------------------


def test_phone_login_without_otp_goes_straight_to_sli012() -> None:
    customer = make_customer()
    client = phone_client()

    r = phone_login(client, customer)

    assert location(r) == APPLY
    text = _in_sli012(client)
    assert "ワンタイムパスワード利用申請" in text
    assert "画面ID: SLI012" in text
    # Not mandatory: the customer is logged in and the top page is one 中止する away.
    assert _logged_in(client)


def test_pc_login_without_otp_goes_to_the_top_page_not_sli012() -> None:
    customer = make_customer()
    client = phone_client(ua=PC_UA)

    r = phone_login(client, customer)

    assert location(r) == TOP
    assert not AuditRecord.objects.filter(event="otp.phone_apply_declined").exists()


def test_sli012_shows_the_leaflets_fields_texts_notes_and_buttons() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.get(APPLY)
    text = visible_text(r)
    html = r.content.decode()

    for phrase in (
        "スマートフォンをご利用の際は、ワンタイムパスワードのご利用をお勧めします。",
        "よろしければ、「確定する」ボタンを押して下さい。",
        "こちらをお読みください",
        "【ワンタイムパスワード申請情報】",
        "トークン発行する端末のメールアドレスを入力して下さい。",
        "【必須】メールアドレス",
        "【必須】メールアドレス（確認用）",
        "《半角英数字記号》",
        "確認のため再度入力して下さい。",
        "トークン発行等に必要の利用開始パスワードを4～8桁の数字で登録して下さい。",
        "【必須】利用開始パスワード",
        "【必須】利用開始パスワード（確認用）",
        "【追加認証入力】",
        "質問",
        QUESTION,
        "【必須】回答",
        "《全角16文字以内》",
        "※利用開始パスワード… 初期設定時にのみ必要となるパスワードです。",
        "URL付きのメールを受信できるように、事前にメール設定をしてください。",
        "画面ID: SLI012",
    ):
        assert phrase in text, phrase
    for name in (
        "email",
        "email_confirm",
        "activation_password",
        "activation_password_confirm",
        "answer",
    ):
        assert f'name="{name}"' in html, name
    # No 確認用パスワード on SLI012 (the leaflet's phone screen has none).
    assert 'name="transaction_password"' not in html
    assert 'value="confirm">確定する<' in html
    assert 'value="cancel" class="btn-secondary">中止する<' in html
    assert 'value="back" class="btn-secondary">戻る<' in html
    # The 利用開始パスワード fields never echo a value, and are password inputs.
    assert html.count('type="password"') == 2
    # こちらをお読みください opens the leaflet's guide.
    guide = client.get(reverse("otp:phone_guide"))
    assert guide.status_code == 200
    assert "Directログイン" in page_text(guide)


def test_confirm_issues_the_token_with_the_same_mail_and_notice_as_the_pc(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.post(APPLY, apply_data())

    assert location(r) == APPLY_DONE
    token = Token.objects.get(customer=customer)
    assert token.state == Token.State.ISSUED
    assert token.email == PHONE_MAIL
    assert len(token.user_id) == 12
    token_mail = OutboxMail.objects.get(purpose=PURPOSE_TOKEN_MAIL)
    assert token_mail.to_addr == PHONE_MAIL
    assert token.user_id in token_mail.body
    assert ACTIVATION_PASSWORD not in token_mail.body
    # The leaflet's part for smartphones says スマートフォン where the PC part says 携帯電話.
    assert "スマートフォンの日時が正しく設定されていること" in token_mail.body
    assert "携帯電話" not in token_mail.body
    notice = OutboxMail.objects.get(purpose=PURPOSE_ISSUE_NOTICE)
    assert notice.to_addr == customer.email
    assert AuditRecord.objects.filter(customer_id=customer.pk, event="token.issued").count() == 1
    assert AuditRecord.objects.filter(
        customer_id=customer.pk, event="secret_answer.accepted"
    ).exists()
    done = page_text(client.get(APPLY_DONE))
    assert "ワンタイムパスワード利用申請（完了）" in done
    assert PHONE_MAIL in done
    assert "Directログイン" in done
    assert _logged_in(client)


def test_mail_really_leaves_through_the_outbox_worker() -> None:
    from netbank.notifications.delivery import deliver_due

    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)
    client.post(APPLY, apply_data())

    deliver_due()

    token = Token.objects.get(customer=customer)
    to_phone = [m for m in mail.outbox if m.to == [PHONE_MAIL]]
    assert len(to_phone) == 1
    assert token.user_id in to_phone[0].body


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": ""}, "email", "メールアドレスを入力してください"),
        ({"email": "ｈａｎａｋｏ@example.jp"}, "email", "半角英数字記号"),
        ({"email": "hanako@"}, "email", "形式が正しくありません"),
        ({"email_confirm": ""}, "email_confirm", "再度入力してください"),
        (
            {"email_confirm": "other@mobile.example.jp"},
            "email_confirm",
            "メールアドレスとメールアドレス（確認用）が一致しません",
        ),
        ({"activation_password": "123"}, "activation_password", "利用開始パスワード"),
        ({"activation_password": "123456789"}, "activation_password", "利用開始パスワード"),
        ({"activation_password": "１２３４"}, "activation_password", "半角数字"),
        (
            {"activation_password_confirm": "999999"},
            "activation_password_confirm",
            "一致しません",
        ),
        ({"answer": ""}, "answer", "回答"),
        ({"answer": "あ" * 17}, "answer", "回答"),
    ],
)
def test_bad_input_gets_a_message_by_its_field_and_issues_nothing(
    overrides: dict[str, str], field: str, message: str
) -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.post(APPLY, apply_data(**overrides))

    assert r.status_code == 400
    html = r.content.decode()
    assert f'id="id_{field}_error"' in html
    assert message in page_text(r)
    assert not Token.objects.filter(customer=customer).exists()
    assert not OutboxMail.objects.filter(purpose=PURPOSE_TOKEN_MAIL).exists()
    # Passwords are never echoed back into the form.
    assert ACTIVATION_PASSWORD not in html


def test_wrong_answer_is_refused_counts_toward_its_lockout_and_issues_nothing() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.post(APPLY, apply_data(answer="ラピュタ"))

    assert r.status_code == 400
    assert "追加認証の回答が正しくありません。" in page_text(r)
    assert not Token.objects.filter(customer=customer).exists()
    counter = FailureCounter.objects.get(
        kind=lockout.SECRET_ANSWER, subject=lockout.subject_for_customer(customer)
    )
    assert counter.consecutive_failures == 1


def test_fifth_wrong_answer_locks_and_even_the_right_one_is_then_refused() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)
    for _ in range(5):
        client.post(APPLY, apply_data(answer="ラピュタ"))

    r = client.post(APPLY, apply_data())

    assert r.status_code == 400
    assert "ヘルプデスク" in page_text(r)
    assert not Token.objects.filter(customer=customer).exists()


def test_the_question_is_fixed_for_the_attempt_reloading_does_not_reroll() -> None:
    customer = customer_with_two_questions()
    client = phone_client()
    phone_login(client, customer)
    first = _question_shown(client)
    for _ in range(5):
        assert _question_shown(client) == first
    other = phone_client()
    phone_login(other, customer)
    assert _question_shown(other) == first


def customer_with_two_questions():  # type: ignore[no-untyped-def]
    from netbank.customers.services import customer_create

    return customer_create(
        login_id="phonetwo1",
        name_kanji="農協 花子",
        name_kana="ノウキョウ ハナコ",
        email="two@example.jp",
        password="Login-pass-1",
        transaction_password="Kakunin-77",
        questions=[(QUESTION, ANSWER), ("中学校の時の部活動は何ですか？", "吹奏楽部")],
    )


def _question_shown(client: Client) -> str:
    import re

    html = client.get(APPLY).content.decode()
    m = re.search(r'class="otp-question">([^<]*)<', html)
    assert m is not None
    return m.group(1)


def test_customer_without_a_secret_question_is_told_to_call_the_helpdesk() -> None:
    customer = make_customer(questions=False)
    client = phone_client()
    phone_login(client, customer)

    text = _in_sli012(client)
    assert "追加認証の質問が登録されていないため" in text
    r = client.post(APPLY, apply_data())
    assert r.status_code == 400
    assert not Token.objects.filter(customer=customer).exists()


# --- 中止する and 戻る ----------------------------------------------------------------


def test_cancel_returns_to_the_top_page_and_sli012_comes_back_at_the_next_phone_login() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.post(APPLY, {"action": "cancel"})

    assert location(r) == TOP
    assert _logged_in(client)
    assert not Token.objects.filter(customer=customer).exists()
    assert AuditRecord.objects.filter(
        customer_id=customer.pk, event="otp.phone_apply_declined"
    ).exists()
    # The next phone login: SLI012 again.
    again = phone_client()
    assert location(phone_login(again, customer)) == APPLY


def test_cancel_with_otp_mandatory_logs_out(mandatory: None) -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.post(APPLY, {"action": "cancel"})

    assert location(r) == "/?ended=logout"
    assert not _logged_in(client)
    assert location(client.get(APPLY)).startswith("/?ended=")


def test_with_otp_mandatory_sli012_grants_nothing_else(mandatory: None) -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    assert "SLI012" in _in_sli012(client)
    # Not logged in while the application is open: every other page sends to login.
    for url in (TOP, "/procedures/", "/procedures/otp/"):
        r = client.get(url)
        assert r.status_code == 302
        assert location(r).startswith("/"), url
        assert location(r) != url
        assert not location(r).startswith(TOP)
    # And the OTP step cannot be replayed to get in either.
    r = client.get(reverse("otp:login_otp"))
    assert location(r).startswith("/?ended=")
    assert not _logged_in(client)


def test_with_otp_mandatory_confirm_still_issues_and_then_ends_the_session(
    mandatory: None,
) -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.post(APPLY, apply_data())
    assert location(r) == APPLY_DONE
    done = client.get(APPLY_DONE)
    assert done.status_code == 200
    assert "ログイン画面へ" in page_text(done)

    assert Token.objects.get(customer=customer).state == Token.State.ISSUED
    # The page was the last thing this session could see.
    assert location(client.get(APPLY)).startswith("/?ended=")


def test_mandatory_application_expires_after_the_idle_limit(
    mandatory: None, frozen_clock: datetime, settings: SettingsWrapper
) -> None:
    from netbank import clock

    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)
    clock.advance(settings.NETBANK_SESSION_IDLE_SECONDS + 1)

    r = client.post(APPLY, apply_data())

    assert location(r) == "/?ended=pending"
    assert not Token.objects.filter(customer=customer).exists()


def test_mandatory_application_ends_when_the_customer_is_suspended(mandatory: None) -> None:
    from netbank.customers.services import customer_security_counter_bump

    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)
    customer_security_counter_bump(customer=customer, reason="test")

    r = client.post(APPLY, apply_data())

    assert location(r) == "/?ended=pending"
    assert not Token.objects.filter(customer=customer).exists()


def test_back_after_login_returns_to_the_login_screen() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.post(APPLY, {"action": "back"})

    assert location(r) == "/?ended=logout"
    assert not _logged_in(client)
    assert not Token.objects.filter(customer=customer).exists()


def test_cancel_and_back_need_no_valid_input_and_never_issue() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)

    r = client.post(APPLY, apply_data(action="cancel", email="not an address"))

    assert location(r) == TOP
    assert not Token.objects.filter(customer=customer).exists()


# --- the display switch changes the layout only ----------------------------------------


def test_phone_switched_to_the_pc_layout_still_gets_sli012() -> None:
    customer = make_customer()
    client = phone_client()
    r = client.post(reverse("display_switch"), {"mode": "pc", "next": "/"})
    assert r.status_code == 303
    assert client.cookies[device.DISPLAY_COOKIE].value == "pc"

    login_page = client.get("/")
    assert 'class="display-pc' in login_page.content.decode()
    assert 'content="width=1100"' in login_page.content.decode()

    assert location(phone_login(client, customer)) == APPLY
    page = client.get(APPLY).content.decode()
    assert "SLI012" in page
    assert 'class="display-pc' in page


def test_pc_browser_choosing_the_phone_layout_is_not_sent_to_sli012() -> None:
    customer = make_customer()
    client = phone_client(ua=PC_UA)
    client.cookies[device.DISPLAY_COOKIE] = "sp"

    assert location(phone_login(client, customer)) == TOP


def test_display_switch_is_offered_on_phones_and_flips_both_ways() -> None:
    client = phone_client()
    page = client.get("/").content.decode()
    assert 'class="display-sp' in page
    assert "PC版で表示" in page
    assert 'content="width=device-width, initial-scale=1"' in page

    client.post(reverse("display_switch"), {"mode": "pc", "next": "/"})
    page = client.get("/").content.decode()
    assert "スマートフォン版で表示" in page

    client.post(reverse("display_switch"), {"mode": "sp", "next": "/"})
    assert 'class="display-sp' in client.get("/").content.decode()
    assert "PC版で表示" not in phone_client(ua=PC_UA).get("/").content.decode()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_display_switch_never_redirects_off_site(next_url: str) -> None:
    r = phone_client().post(reverse("display_switch"), {"mode": "pc", "next": next_url})
    assert r.status_code == 303
    assert r["Location"] == "/"


def test_display_switch_ignores_an_unknown_mode_and_refuses_get() -> None:
    client = phone_client()
    r = client.post(reverse("display_switch"), {"mode": "tablet", "next": "/"})
    assert r.status_code == 303
    assert device.DISPLAY_COOKIE not in r.cookies
    assert client.get(reverse("display_switch")).status_code == 405


def test_display_switch_needs_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=IPHONE_UA)
    r = client.post(reverse("display_switch"), {"mode": "pc", "next": "/"})
    assert r.status_code == 403


# --- a phone with OTP on ---------------------------------------------------------------


def test_phone_login_with_otp_in_use_shows_the_otp_screen_after_id_and_password() -> None:
    customer = make_customer()
    in_use_token(customer)
    client = phone_client()

    r = post_password(client, customer)
    assert location(r) == reverse("otp:login_otp")
    r = client.get(reverse("otp:login_otp"))

    assert r.status_code == 200
    assert "ワンタイムパスワード認証" in page_text(r)
    assert not _logged_in(client)
    # SLI012 is not for a customer whose OTP is on.
    assert client.get(APPLY).status_code == 302


def test_logged_in_customer_with_otp_in_use_is_sent_away_from_sli012() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)
    in_use_token(customer)

    r = client.post(APPLY, apply_data())

    assert location(r) == TOP
    assert Token.objects.filter(customer=customer).count() == 1


def test_sli012_without_any_login_sends_to_the_login_screen() -> None:
    r = phone_client().get(APPLY)
    assert location(r) == "/?ended=pending"
    r = phone_client().post(APPLY, apply_data())
    assert location(r) == "/?ended=pending"
    assert not Token.objects.exists()


def test_second_application_replaces_the_first_and_the_page_says_so() -> None:
    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)
    client.post(APPLY, apply_data())
    first = Token.objects.get(customer=customer)

    again = phone_client()
    assert location(phone_login(again, customer)) == APPLY
    assert "発行済みのトークン" in _in_sli012(again)
    again.post(APPLY, apply_data(answer=ANSWER))

    first.refresh_from_db()
    assert first.state == Token.State.VOIDED
    assert Token.objects.filter(customer=customer, state=Token.State.ISSUED).count() == 1


def test_sli012_needs_the_csrf_token() -> None:
    import re

    customer = make_customer()
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=IPHONE_UA)
    login_page = client.get("/").content.decode()
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
    assert m is not None
    client.post(
        reverse("customers:login"),
        {"login_id": customer.login_id, "password": "Login-pass-1", "csrfmiddlewaretoken": m[1]},
    )
    assert location(client.get(reverse("otp:login_otp"))) == APPLY
    assert client.get(APPLY).status_code == 200

    r = client.post(APPLY, apply_data())

    assert r.status_code == 403
    assert not Token.objects.exists()


def test_sli012_after_the_idle_timeout_says_why_the_session_ended(
    frozen_clock: datetime, settings: SettingsWrapper
) -> None:
    from netbank import clock

    customer = make_customer()
    client = phone_client()
    phone_login(client, customer)
    clock.advance(settings.NETBANK_SESSION_IDLE_SECONDS + 1)

    r = client.post(APPLY, apply_data())

    assert location(r) == "/?ended=idle"
    assert not Token.objects.filter(customer=customer).exists()
