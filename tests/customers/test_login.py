"""The first login step, and every rule that protects it, each tried to be broken."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter, ThrottleBucket
from netbank.customers.services import login_check_password
from netbank.notifications.models import OutboxMail
from tests.customers.factories import PASSWORD, make_customer
from tests.customers.support import counting_hasher, log_in, post_login

pytestmark = pytest.mark.django_db

GENERIC = "ログインIDまたはログインパスワードが正しくありません。"
HELPDESK = settings.NETBANK_HELPDESK


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def test_right_password_starts_a_pending_login_then_the_otp_step(frozen_clock: datetime) -> None:
    customer = make_customer()
    client = Client()
    r = post_login(client, customer.login_id, PASSWORD)
    assert r.status_code == 302
    assert r["Location"] == "/login/otp/"
    # Not logged in yet: the top page sends the customer back to the login page.
    assert client.get("/top/").status_code == 302
    assert AuditRecord.objects.filter(
        event="login.password_accepted", customer_id=customer.pk
    ).exists()


def test_unknown_id_and_wrong_password_get_the_same_page_and_one_hash_each(
    frozen_clock: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = make_customer()
    with counting_hasher(monkeypatch) as calls:
        wrong = post_login(Client(), customer.login_id, "not-the-password")
        assert (calls.verify, calls.encode) == (1, 0)
        unknown = post_login(Client(), "nobody0001", "not-the-password")
        assert (calls.verify, calls.encode) == (2, 0)
    assert wrong.status_code == unknown.status_code == 400
    assert GENERIC in _page(wrong)
    assert GENERIC in _page(unknown)
    # The whole error region is identical, not just the sentence.
    region = lambda r: _page(r).split('id="form-errors"')[1].split("</div>")[0]  # noqa: E731
    assert region(wrong) == region(unknown)


def test_unknown_id_path_hashes_once_through_the_service_too(
    frozen_clock: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with counting_hasher(monkeypatch) as calls:
        outcome = login_check_password(login_id="ghost00001", password="x", ip="192.0.2.9")
    assert outcome.customer is None
    assert outcome.message == GENERIC
    assert calls.verify == 1


def test_five_wrong_passwords_lock_and_the_fifth_page_names_the_helpdesk(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    client = Client()
    for _ in range(4):
        assert GENERIC in _page(post_login(client, customer.login_id, "wrong-password"))
    fifth = _page(post_login(client, customer.login_id, "wrong-password"))
    assert "ご利用を一時的に停止しています" in fifth
    assert HELPDESK["phone"] in fifth.split('id="form-errors"')[1].split("</div>")[0]
    assert HELPDESK["weekday_hours"] in fifth
    assert "2026年11月27日10:30" in fifth  # 01:00 UTC + 30 min, in Japan time


def test_sixth_attempt_with_the_right_password_is_refused_while_locked_without_hashing(
    frozen_clock: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = make_customer()
    client = Client()
    for _ in range(5):
        post_login(client, customer.login_id, "wrong-password")
    with counting_hasher(monkeypatch) as calls:
        r = post_login(client, customer.login_id, PASSWORD)
    assert r.status_code == 400
    assert "ご利用を一時的に停止しています" in _page(r)
    assert calls.total == 0
    assert "pending_login" not in client.session
    # Still locked one second before the end, open one second after it.
    clock.advance(30 * 60 - 1)
    assert post_login(client, customer.login_id, PASSWORD).status_code == 400
    clock.advance(2)
    assert post_login(client, customer.login_id, PASSWORD).status_code == 302


def test_lock_doubles_on_each_repeat(frozen_clock: datetime) -> None:
    customer = make_customer()
    subject = lockout.subject_for_customer(customer)
    for _ in range(5):
        login_check_password(login_id=customer.login_id, password="bad", ip="192.0.2.1")
    first = lockout.lockout_status(kind=lockout.LOGIN_PASSWORD, subject=subject)
    assert first.until == frozen_clock + timedelta(minutes=30)
    clock.advance(30 * 60 + 1)
    for _ in range(5):
        login_check_password(login_id=customer.login_id, password="bad", ip="192.0.2.1")
    second = lockout.lockout_status(kind=lockout.LOGIN_PASSWORD, subject=subject)
    assert second.until == clock.now() + timedelta(hours=1)


def test_third_lock_within_a_day_is_permanent_until_the_helpdesk_clears_it(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    client = Client()

    def five_wrong() -> str:
        page = ""
        for _ in range(5):
            page = _page(post_login(client, customer.login_id, "wrong-password"))
        return page

    five_wrong()
    clock.advance(30 * 60 + 1)
    five_wrong()
    clock.advance(60 * 60 + 1)
    page = five_wrong()
    assert "再開にはヘルプデスクへのご連絡が必要です" in page
    assert HELPDESK["phone"] in page
    clock.advance(30 * 24 * 3600)  # a month later: still locked
    assert "再開にはヘルプデスクへのご連絡が必要です" in _page(
        post_login(client, customer.login_id, PASSWORD)
    )
    lockout.lockout_clear(
        kind=lockout.LOGIN_PASSWORD, subject=lockout.subject_for_customer(customer)
    )
    assert post_login(client, customer.login_id, PASSWORD).status_code == 302


def test_locks_spread_over_more_than_a_day_stay_temporary(frozen_clock: datetime) -> None:
    customer = make_customer()
    subject = lockout.subject_for_customer(customer)
    for gap in (0, 13 * 3600, 13 * 3600):
        clock.advance(gap)
        for _ in range(5):
            login_check_password(login_id=customer.login_id, password="bad", ip=None)
    # Locks at 0 h, 13 h and 26 h: never three within 24 h.
    status = lockout.lockout_status(kind=lockout.LOGIN_PASSWORD, subject=subject)
    assert status.locked
    assert not status.permanent


def test_unknown_ids_lock_exactly_like_real_ones(frozen_clock: datetime) -> None:
    customer = make_customer()
    real, ghost = Client(), Client()
    real_pages, ghost_pages = [], []
    for step in range(17):
        if step in (6, 12):
            clock.advance(30 * 60 + 1 if step == 6 else 60 * 60 + 1)
        r1 = post_login(real, customer.login_id, "wrong-password")
        r2 = post_login(ghost, "ghostuser01", "wrong-password")
        real_pages.append(
            (r1.status_code, _page(r1).split('id="form-errors"')[1].split("</div>")[0])
        )
        ghost_pages.append(
            (r2.status_code, _page(r2).split('id="form-errors"')[1].split("</div>")[0])
        )
    assert real_pages == ghost_pages
    assert "再開にはヘルプデスクへのご連絡が必要です" in ghost_pages[-1][1]


def test_lock_mail_is_queued_to_the_customer_and_only_to_real_customers(
    frozen_clock: datetime,
) -> None:
    customer = make_customer(email="taro@example.jp")
    for _ in range(5):
        post_login(Client(), customer.login_id, "wrong-password")
        post_login(Client(), "ghostuser02", "wrong-password")
    mails = list(OutboxMail.objects.all())
    assert len(mails) == 1
    mail = mails[0]
    assert mail.to_addr == "taro@example.jp"
    assert mail.purpose == "lock_notice"
    assert "ログインパスワード" in mail.subject or "ログインID" in mail.subject
    assert HELPDESK["phone"] in mail.body
    assert "wrong-password" not in mail.body


def test_success_before_the_fifth_failure_resets_the_count(frozen_clock: datetime) -> None:
    customer = make_customer()
    for _ in range(4):
        post_login(Client(), customer.login_id, "wrong-password")
    assert post_login(Client(), customer.login_id, PASSWORD).status_code == 302
    for _ in range(4):
        post_login(Client(), customer.login_id, "wrong-password")
    assert post_login(Client(), customer.login_id, PASSWORD).status_code == 302


def test_login_ids_are_case_sensitive(frozen_clock: datetime) -> None:
    make_customer(login_id="Yamada01")
    assert post_login(Client(), "yamada01", PASSWORD).status_code == 400
    assert post_login(Client(), "Yamada01", PASSWORD).status_code == 302


def test_suspended_customer_is_told_to_call_the_helpdesk_and_gets_no_session(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    client = Client()
    r = post_login(client, customer.login_id, PASSWORD)
    assert r.status_code == 400
    assert "お取引は停止されています" in _page(r)
    assert "pending_login" not in client.session


# --- throttling -------------------------------------------------------------------------


@override_settings(NETBANK_THROTTLE={"login_per_ip_per_minute": 3})
def test_throttle_refuses_before_any_hash_and_only_for_that_address(
    frozen_clock: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = make_customer()
    with counting_hasher(monkeypatch) as calls:
        for n in range(3):
            post_login(Client(), f"flood{n:05d}", "x", ip="203.0.113.5")
        assert calls.verify == 3
        r = post_login(Client(), customer.login_id, PASSWORD, ip="203.0.113.5")
        assert r.status_code == 429
        assert "試行が多すぎる" in _page(r)
        assert calls.verify == 3  # refused before hashing, even with the right password
        # Another client is not affected.
        assert (
            post_login(Client(), customer.login_id, PASSWORD, ip="203.0.113.6").status_code == 302
        )
        # The next window opens again.
        clock.advance(60)
        assert (
            post_login(Client(), customer.login_id, PASSWORD, ip="203.0.113.5").status_code == 302
        )
    assert AuditRecord.objects.filter(event="login.throttled", ip="203.0.113.5").count() == 1


@override_settings(NETBANK_THROTTLE={"login_per_ip_per_minute": 2})
def test_throttle_keys_ipv6_clients_by_their_slash_64(frozen_clock: datetime) -> None:
    for n in range(2):
        post_login(Client(), f"flood{n:05d}", "x", ip=f"2001:db8:1:2::{n + 1}")
    r = post_login(Client(), "flood00009", "x", ip="2001:db8:1:2:ffff::9")
    assert r.status_code == 429
    assert post_login(Client(), "flood00009", "x", ip="2001:db8:1:3::1").status_code == 400


@override_settings(NETBANK_THROTTLE={"login_per_ip_per_minute": 2})
def test_throttle_does_not_count_toward_the_lockout(frozen_clock: datetime) -> None:
    customer = make_customer()
    for _ in range(10):
        post_login(Client(), customer.login_id, "wrong", ip="203.0.113.8")
    counter = FailureCounter.objects.get(kind=lockout.LOGIN_PASSWORD)
    assert counter.consecutive_failures == 2


def test_old_throttle_buckets_are_removed_when_a_new_window_starts(frozen_clock: datetime) -> None:
    post_login(Client(), "someone001", "x", ip="203.0.113.9")
    clock.advance(120)
    post_login(Client(), "someone001", "x", ip="203.0.113.9")
    assert ThrottleBucket.objects.filter(key__endswith="203.0.113.9").count() == 1


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login_id", "password", "message"),
    [
        ("ｙａｍａｄａ０１", PASSWORD, "ログインIDは半角英数字で入力してください"),
        ("yamada01", "ｐａｓｓｗｏｒｄ", "ログインパスワードは半角英数字記号で入力してください"),
        ("y" * 13, PASSWORD, "ログインIDは12文字以内で入力してください"),
        ("yamada01", "p" * 65, "ログインパスワードは64文字以内で入力してください"),
        ("yama\x00da01", PASSWORD, "ログインIDに使用できない文字（制御文字）"),
        ("yamada01", "pass\x1bword", "ログインパスワードに使用できない文字（制御文字）"),
        ("", PASSWORD, "ログインIDを入力してください"),
        ("yamada01", "", "ログインパスワードを入力してください"),
        ("yamada", PASSWORD, None),  # well-formed, just wrong
        ("yama", PASSWORD, "6～12文字の半角英数字"),
        ("yamada!1", PASSWORD, "半角英数字（記号・空白を除く）"),
    ],
)
def test_malformed_login_input_gets_a_field_message_and_changes_nothing(
    frozen_clock: datetime,
    monkeypatch: pytest.MonkeyPatch,
    login_id: str,
    password: str,
    message: str | None,
) -> None:
    make_customer(login_id="yamada01")
    before = AuditRecord.objects.count()
    with counting_hasher(monkeypatch) as calls:
        r = post_login(Client(), login_id, password)
    assert r.status_code == 400
    page = _page(r)
    if message is None:
        assert GENERIC in page
        return
    assert message in page
    assert 'aria-invalid="true"' in page
    assert calls.total == 0
    assert AuditRecord.objects.count() == before
    assert not FailureCounter.objects.exists()


def test_missing_fields_entirely_get_messages_not_a_500(frozen_clock: datetime) -> None:
    r = Client().post("/", {})
    assert r.status_code == 400
    assert "ログインIDを入力してください" in _page(r)


def test_audit_records_of_login_carry_no_secrets(frozen_clock: datetime) -> None:
    customer = make_customer()
    for _ in range(4):
        post_login(Client(), customer.login_id, "Secret-Guess-1")
    for _ in range(6):  # an unknown ID (a password typed into the ID field), locked
        post_login(Client(), "SecretTypedI", "Secret-Guess-2")
    log_in(Client(), customer.login_id)
    events = {r.event for r in AuditRecord.objects.all()}
    assert {"login.failed", "lockout.locked", "login.refused_locked"} <= events
    dump = repr(list(AuditRecord.objects.values_list("data", flat=True)))
    assert "Secret-Guess" not in dump
    assert "SecretTypedI" not in dump  # an unknown ID is kept only as a digest
    assert PASSWORD not in dump


@override_settings(NETBANK_ARGON2={"time_cost": 2, "memory_cost": 16, "parallelism": 1})
def test_a_correct_login_rehashes_when_the_cost_was_raised(frozen_clock: datetime) -> None:
    with override_settings(NETBANK_ARGON2={"time_cost": 1, "memory_cost": 8, "parallelism": 1}):
        customer = make_customer()
    assert "t=1" in customer.password_hash
    assert post_login(Client(), customer.login_id, PASSWORD).status_code == 302
    customer.refresh_from_db()
    assert "t=2" in customer.password_hash
