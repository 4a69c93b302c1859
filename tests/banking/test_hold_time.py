"""The 24-hour hold after a token issue names its end the same way on every screen,
rounded up to the minute (the named minute is never still refused), and the issue
notice mail names it too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from netbank import clock
from netbank.notifications.models import OutboxMail
from netbank.otp.tokens import services as token_services
from netbank.web.moments import end_time_text, minute_ceil
from tests.banking.factories import customer_with_account, issue_token, login
from tests.banking.test_screens import new_payee_input

pytestmark = pytest.mark.django_db

# The pinned clock is 2026-11-27 01:00:00 UTC; a token issued 3 h minus 30 s ago is held
# until 22:00:30 UTC, 2026-11-28 07:00:30 in Japan: named as 07:01.
HOLD_END_TEXT = "2026年11月28日 07:01"
HOLD_END = datetime(2026, 11, 27, 22, 0, 30, tzinfo=UTC)


def test_minute_ceil_rounds_up_only_a_part_minute() -> None:
    whole = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    assert minute_ceil(whole) == whole
    assert minute_ceil(whole + timedelta(microseconds=1)) == whole + timedelta(minutes=1)
    assert minute_ceil(whole + timedelta(seconds=59)) == whole + timedelta(minutes=1)


def test_end_time_text_is_japan_time_in_the_active_language() -> None:
    with translation.override("ja"):
        assert end_time_text(HOLD_END) == HOLD_END_TEXT
    with translation.override("en"):
        assert end_time_text(HOLD_END) == "28 Nov 2026, 07:01"


def held_customer():  # type: ignore[no-untyped-def]
    customer, src = customer_with_account(100_000)
    token, _key = issue_token(customer, created_at=clock.now() - timedelta(hours=3, seconds=-30))
    return customer, src, token


def hold_texts(html: str) -> list[str]:
    return re.findall(r"（([^（）]*) 以降にご利用いただけます）", html)


def test_every_screen_names_the_hold_end_the_same_way_rounded_up() -> None:
    customer, src, token = held_customer()
    client = login(customer, token)
    pages = {
        "振込": client.get(reverse("banking:furikomi")),
        "登録先一覧": client.get(reverse("banking:payees")),
        "振込（入力）": client.post(reverse("banking:furikomi_input"), new_payee_input(src)),
        "登録先の登録": client.get(reverse("banking:payee_add")),
        "振込限度額の変更": client.post(reverse("banking:limit"), {"new_limit": "2000000"}),
    }
    for name, response in pages.items():
        html = response.content.decode()
        assert hold_texts(html) == [HOLD_END_TEXT], (name, hold_texts(html))
        assert "2026/11/28" not in html, name


def test_the_named_minute_is_not_refused_and_the_second_before_the_end_is() -> None:
    customer, src, token = held_customer()
    clock.set_now(HOLD_END - timedelta(seconds=1))
    client = login(customer, token)
    refused = client.post(reverse("banking:furikomi_input"), new_payee_input(src))
    assert refused.status_code == 400
    assert hold_texts(refused.content.decode()) == [HOLD_END_TEXT]
    # 07:01 in Japan, the minute the screen named.
    clock.set_now(datetime(2026, 11, 27, 22, 1, tzinfo=UTC))
    client = login(customer, token)  # a new session: the first one idled out meanwhile
    accepted = client.post(reverse("banking:furikomi_input"), new_payee_input(src))
    assert accepted.status_code == 302, accepted.content.decode()[:3000]
    assert "以降にご利用いただけます" not in client.get(reverse("banking:payees")).content.decode()


def test_the_token_issue_notice_names_the_hold_and_its_end() -> None:
    customer, _src = customer_with_account(1_000)
    token_services.token_issue(
        customer=customer, email="new@phone.example.jp", activation_password="4821", ip=None
    )
    notice = OutboxMail.objects.get(purpose="otp_issue_notice")
    # Issued 2026-11-27 10:00 in Japan: held until the next day's 10:00.
    assert "2026年11月28日 10:00 までは、新しい振込先への振込、登録先の登録" in notice.body
    assert "振込限度額の引き上げをお受けできません" in notice.body


def test_the_end_time_filter_renders_a_missing_value_as_nothing() -> None:
    from django.template import Context, Template

    template = Template("{% load web_moments %}[{{ until|end_time }}]")
    assert template.render(Context({})) == "[]"
    assert template.render(Context({"until": None})) == "[]"
    with translation.override("ja"):
        assert template.render(Context({"until": HOLD_END})) == f"[{HOLD_END_TEXT}]"
