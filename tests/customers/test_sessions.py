"""Sessions: key rotation, 5-minute idle end, the passive status check, extension,
the 60-minute absolute limit, and ending sessions by security counter or suspension."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.conf import settings
from django.test import Client

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers.models import Customer
from netbank.customers.services import customer_security_counter_bump
from netbank.notifications.models import OutboxMail
from tests.customers.factories import PASSWORD, make_customer
from tests.customers.support import log_in, post_login

pytestmark = pytest.mark.django_db

COOKIE = settings.SESSION_COOKIE_NAME


def _key(client: Client) -> str:
    return client.cookies[COOKIE].value


def _logged_in_client(customer: Customer) -> Client:
    client = Client()
    log_in(client, customer.login_id)
    return client


def test_session_key_rotates_at_the_password_step_and_again_at_login(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    client = Client()
    client.get("/")
    client.session.save()  # an anonymous session exists, as a planted one would
    client.cookies[COOKIE] = client.session.session_key
    planted = _key(client)
    post_login(client, customer.login_id, PASSWORD)
    pending = _key(client)
    assert pending != planted
    client.get("/login/otp/")
    logged_in = _key(client)
    assert logged_in not in (planted, pending)
    # The planted key grants nothing.
    attacker = Client()
    attacker.cookies[COOKIE] = planted
    assert attacker.get("/top/").status_code == 302
    attacker.cookies[COOKIE] = pending
    assert attacker.get("/top/").status_code == 302


def test_five_minutes_idle_ends_the_session_and_the_login_page_says_why(
    frozen_clock: datetime,
) -> None:
    client = _logged_in_client(make_customer())
    clock.advance(5 * 60 + 1)
    r = client.get("/top/")
    assert r.status_code == 302
    assert r["Location"] == "/?ended=idle"
    page = client.get(r["Location"]).content.decode()
    assert "一定時間（5分間）操作がなかったため、自動的にログアウトしました" in page
    # The session is gone: coming back within the idle time does not revive it.
    assert client.get("/top/").status_code == 302


def test_activity_within_five_minutes_keeps_the_session(frozen_clock: datetime) -> None:
    client = _logged_in_client(make_customer())
    for _ in range(5):
        clock.advance(4 * 60 + 59)
        assert client.get("/top/").status_code == 200


def test_session_status_check_does_not_extend_the_session(frozen_clock: datetime) -> None:
    client = _logged_in_client(make_customer())
    clock.advance(4 * 60)
    status = client.get("/session/status").json()
    assert status == {"authenticated": True, "idle_seconds_left": 60}
    clock.advance(30)
    assert client.get("/session/status").json()["idle_seconds_left"] == 30  # not reset
    clock.advance(31)
    ended = client.get("/session/status").json()
    assert ended == {"authenticated": False, "login_url": "/?ended=idle"}
    assert client.get("/top/").status_code == 302


def test_extend_post_extends_the_session(frozen_clock: datetime) -> None:
    client = _logged_in_client(make_customer())
    clock.advance(4 * 60 + 30)
    r = client.post("/session/extend", {"next": "/procedures/"})
    assert r.status_code == 302
    assert r["Location"] == "/procedures/"
    clock.advance(4 * 60 + 30)  # 9 minutes after login, 4.5 after the extension
    assert client.get("/top/").status_code == 200


def test_extend_needs_post_and_csrf(frozen_clock: datetime) -> None:
    customer = make_customer()
    client = Client(enforce_csrf_checks=True)
    log_in_with_csrf(client, customer)
    assert client.get("/session/extend").status_code == 405
    r = client.post("/session/extend")
    assert r.status_code == 403


def log_in_with_csrf(client: Client, customer: Customer) -> None:
    page = client.get("/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    r = client.post(
        "/", {"login_id": customer.login_id, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert r.status_code == 302
    assert client.get("/login/otp/").status_code == 302


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:x"]
)
def test_extend_never_redirects_off_site(frozen_clock: datetime, target: str) -> None:
    client = _logged_in_client(make_customer())
    r = client.post("/session/extend", {"next": target})
    assert r["Location"] == "/top/"


def test_absolute_lifetime_of_sixty_minutes_ends_even_an_active_session(
    frozen_clock: datetime,
) -> None:
    client = _logged_in_client(make_customer())
    for _ in range(14):  # active every 4 minutes: 56 minutes
        clock.advance(4 * 60)
        assert client.get("/top/").status_code == 200
    clock.advance(4 * 60 + 1)  # 60 min 1 s after login, 4 min after the last request
    r = client.get("/top/")
    assert r["Location"] == "/?ended=expired"
    assert "ログインの有効時間（60分）を過ぎたため" in client.get(r["Location"]).content.decode()


def test_security_counter_bump_ends_every_other_session_on_its_next_request(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    pc, phone = _logged_in_client(customer), _logged_in_client(customer)
    customer_security_counter_bump(customer=customer, reason="test")
    for client in (pc, phone):
        r = client.get("/top/")
        assert r["Location"] == "/?ended=revoked"


def test_suspension_ends_the_session_on_its_next_request(frozen_clock: datetime) -> None:
    customer = make_customer()
    client = _logged_in_client(customer)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    r = client.get("/top/")
    assert r["Location"] == "/?ended=suspended"
    assert "お取引が停止されたため" in client.get(r["Location"]).content.decode()
    assert client.get("/session/status").json()["authenticated"] is False


def test_logout_ends_the_session_and_its_key(frozen_clock: datetime) -> None:
    client = _logged_in_client(make_customer())
    old = _key(client)
    r = client.post("/logout/")
    assert r["Location"] == "/?ended=logout"
    replay = Client()
    replay.cookies[COOKIE] = old
    assert replay.get("/top/").status_code == 302


def test_logout_needs_post(frozen_clock: datetime) -> None:
    client = _logged_in_client(make_customer())
    assert client.get("/logout/").status_code == 405
    assert client.get("/top/").status_code == 200


def test_unknown_end_reason_in_the_url_shows_nothing_unexpected(frozen_clock: datetime) -> None:
    page = Client().get("/?ended=<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)" not in page
    assert "セキュリティのため" not in page


def test_extend_without_next_goes_back_to_the_page_it_was_pressed_on(
    frozen_clock: datetime,
) -> None:
    client = _logged_in_client(make_customer())
    r = client.post("/session/extend", HTTP_REFERER="http://testserver/procedures/?a=1")
    assert r["Location"] == "/procedures/?a=1"
    r = client.post("/session/extend", HTTP_REFERER="https://evil.example/procedures/")
    assert r["Location"] == "/top/"


def test_a_completed_login_is_audited_and_announced_to_the_registered_address(
    frozen_clock: datetime,
) -> None:
    customer = make_customer(email="hanako@example.jp")
    client = Client()
    post_login(client, customer.login_id, PASSWORD)
    # The password step alone is not a login: no notice yet.
    assert not OutboxMail.objects.filter(purpose="login_notice").exists()
    client.get("/login/otp/", REMOTE_ADDR="198.51.100.7")
    notice = OutboxMail.objects.get(purpose="login_notice")
    assert notice.to_addr == "hanako@example.jp"
    assert "ログインのお知らせ" in notice.subject
    assert "198.51.100.7" in notice.body
    assert "2026年11月27日 10:00" in notice.body
    assert settings.NETBANK_HELPDESK["phone"] in notice.body
    assert PASSWORD not in notice.body
    record = AuditRecord.objects.get(event="login.succeeded", customer_id=customer.pk)
    assert record.data.pop("request_id")  # the id of the request it happened in
    assert record.data == {"channel": "web"}
    assert record.ip == "198.51.100.7"


NEW_DEVICE_WARNING = "【ご注意】これまでにご利用のない端末（ブラウザ）からのログインです。"


def test_each_login_sends_exactly_one_mail_which_warns_only_on_a_new_browser(
    frozen_clock: datetime,
) -> None:
    """Regression: a first login from a browser used to send a login notice and a
    separate new-device notice."""
    customer = make_customer(email="jiro@example.jp")
    mails = OutboxMail.objects.filter(to_addr="jiro@example.jp")
    browser = Client()
    log_in(browser, customer.login_id)
    assert mails.count() == 1
    first = mails.get()
    assert first.purpose == "login_notice"
    assert first.subject.endswith("新しい端末からのログインのお知らせ")
    assert NEW_DEVICE_WARNING in first.body
    # The warning comes before the rest of the notice, not buried under it.
    assert first.body.index(NEW_DEVICE_WARNING) < first.body.index("次のログインがありました")
    assert "/security/emergency-stop/" in first.body

    browser.post("/logout/")
    log_in(browser, customer.login_id)
    assert mails.count() == 2
    second = mails.latest("pk")
    assert second.purpose == "login_notice"
    assert second.subject.endswith("】ログインのお知らせ")
    assert NEW_DEVICE_WARNING not in second.body
    assert "/security/emergency-stop/" in second.body
    events = list(
        AuditRecord.objects.filter(
            customer_id=customer.pk, event__in=("login.succeeded", "login.new_device")
        )
        .order_by("pk")
        .values_list("event", flat=True)
    )
    assert events == ["login.succeeded", "login.new_device", "login.succeeded"]


def test_the_password_step_alone_neither_mails_nor_marks_the_browser(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    browser = Client()
    post_login(browser, customer.login_id, PASSWORD)
    assert not OutboxMail.objects.exists()
    assert "netbank_device" not in browser.cookies
    browser.get("/login/otp/")
    assert OutboxMail.objects.filter(purpose="login_notice").count() == 1
    assert "netbank_device" in browser.cookies


def test_the_idle_message_names_the_configured_timeout(
    frozen_clock: datetime, settings: object
) -> None:
    settings.NETBANK_SESSION_IDLE_SECONDS = 10 * 60  # type: ignore[attr-defined]
    client = _logged_in_client(make_customer())
    clock.advance(10 * 60 + 1)
    page = client.get("/?ended=idle").content.decode()
    assert "一定時間（10分間）操作がなかったため" in page


def test_the_login_page_says_why_even_when_the_redirect_lost_its_reason(
    frozen_clock: datetime,
) -> None:
    client = _logged_in_client(make_customer())
    clock.advance(5 * 60 + 1)
    # The idle check's poll ends the session; the page then loads /top/ itself.
    assert client.get("/session/status").json()["authenticated"] is False
    r = client.get("/top/", follow=True)
    page = r.content.decode()
    assert "操作がなかったため、自動的にログアウトしました" in page
    # Said once: the next visit to the login page is a plain one.
    assert "操作がなかったため" not in client.get("/").content.decode()
