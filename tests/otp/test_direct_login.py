"""Directログイン (leaflet part 2, Step 3) end to end, and the rules that protect it.

The phone is played by netbank.token_app.client (activation and Direct login) over
Django's test client; the browser by another test client that opens the URL.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.customers.services import customer_security_counter_bump
from netbank.notifications.models import OutboxMail
from netbank.otp.direct_login.services import ticket_hash
from netbank.otp.models import DirectLoginTicket, Token
from netbank.otp.tokens.mails import PURPOSE_START_USE_NOTICE
from netbank.token_app.client import ActivatedToken, DirectLoginClient, DirectLoginError
from tests.otp.factories import BANK_URL
from tests.otp.test_phone_support import (
    LOGIN_PASSWORD,
    PHONE_MAIL,
    SERVICE_ID,
    activate,
    app_code,
    apply_data,
    direct_login,
    fresh_ip,
    location,
    make_customer,
    open_url,
    phone_client,
    phone_login,
    visible_text,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/direct-login"
TOP = "/top/"
INVALID = "/login/direct/invalid/"


def _apply_on_phone(customer: Customer) -> Token:
    """SLI012 on the phone → 確定する; the issued token."""
    client = phone_client()
    assert location(phone_login(client, customer)) == "/sp/otp/apply/"
    assert location(client.post("/sp/otp/apply/", apply_data())) == "/sp/otp/apply/done/"
    return Token.objects.get(customer=customer, state=Token.State.ISSUED)


def _set_up(customer: Customer | None = None) -> tuple[Customer, Token, ActivatedToken]:
    """A customer whose app is set up (token activated, 利用開始 not yet done)."""
    customer = customer or make_customer()
    token = _apply_on_phone(customer)
    app_token = activate(token)
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    return customer, token, app_token


def _in_use(customer: Customer | None = None) -> tuple[Customer, Token, ActivatedToken]:
    """A customer whose first Direct login has completed 利用開始."""
    customer, token, app_token = _set_up(customer)
    direct_login(app_token, customer)
    token.refresh_from_db()
    assert token.state == Token.State.IN_USE
    clock.advance(token.period)  # the next code is a new time step
    return customer, token, app_token


def _post(body: dict[str, object] | bytes, *, ip: str | None = None, **extra: str) -> object:
    client = Client(REMOTE_ADDR=ip or fresh_ip())
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.generic(
        "POST", API, raw, content_type=extra.pop("content_type", "application/json"), **extra
    )


def _body(
    customer: Customer, token: Token, app_token: ActivatedToken, **overrides: str
) -> dict[str, str]:
    body = {
        "service_id": SERVICE_ID,
        "user_id": token.user_id,
        "login_id": customer.login_id,
        "password": LOGIN_PASSWORD,
        "otp": app_code(app_token),
    }
    body.update(overrides)
    return body


def _browser_is_logged_in(browser: Client) -> bool:
    return browser.get(TOP).status_code == 200


# --- the journey -------------------------------------------------------------------------


def test_phone_journey_sli012_mail_activation_and_first_direct_login(
    frozen_clock: datetime,
) -> None:
    customer = make_customer()
    token = _apply_on_phone(customer)
    token_mail = OutboxMail.objects.get(to_addr=PHONE_MAIL)
    assert token.user_id in token_mail.body
    assert SERVICE_ID in token_mail.body

    app_token = activate(token)
    url = direct_login(app_token, customer)

    # The first Direct login completed 利用開始 (leaflet part 2, Step 3).
    token.refresh_from_db()
    assert token.state == Token.State.IN_USE
    assert token.in_use_at == frozen_clock
    assert OutboxMail.objects.filter(purpose=PURPOSE_START_USE_NOTICE).count() == 1
    assert AuditRecord.objects.filter(customer_id=customer.pk, event="token.in_use").exists()
    assert AuditRecord.objects.filter(
        customer_id=customer.pk, event="direct_login.start_use"
    ).exists()
    accepted = AuditRecord.objects.get(customer_id=customer.pk, event="otp.accepted")
    assert accepted.data["channel"] == "direct"

    browser = phone_client()
    r = open_url(browser, url)
    assert r.status_code == 303
    assert r["Location"] == TOP
    top = browser.get(TOP)
    assert top.status_code == 200
    assert "農協 花子 様" in visible_text(top)
    assert browser.session["login_channel"] == "direct"

    # From now on a phone web login asks for the OTP after ID and password.
    web = phone_client()
    phone_login(web, customer)
    assert not _browser_is_logged_in(web)


def test_direct_login_with_otp_in_use_opens_a_logged_in_page(frozen_clock: datetime) -> None:
    customer, _token, app_token = _in_use()

    url = direct_login(app_token, customer)

    browser = phone_client()
    r = open_url(browser, url)
    assert r["Location"] == TOP
    assert _browser_is_logged_in(browser)
    assert AuditRecord.objects.filter(
        customer_id=customer.pk, event="otp.accepted", data__channel="direct"
    ).exists()


def test_url_is_absolute_on_the_banks_site_and_valid_for_sixty_seconds(
    frozen_clock: datetime,
) -> None:
    customer, token, app_token = _set_up()

    r = _post(_body(customer, token, app_token), secure=True)

    assert r.status_code == 200  # type: ignore[attr-defined]
    assert "no-store" in r["Cache-Control"]  # type: ignore[index]
    data = json.loads(r.content)  # type: ignore[attr-defined]
    assert data["status"] == "ok"
    assert data["expires_in"] == 60
    assert data["url"].startswith("https://testserver/login/direct/?t=")
    row = DirectLoginTicket.objects.get(customer=customer)
    assert (row.expires_at - row.created_at).total_seconds() == 60


def test_setting_may_shorten_the_url_lifetime(frozen_clock: datetime, settings: Settings) -> None:
    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "direct_login_url_seconds": 10}
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    clock.advance(10)

    assert open_url(phone_client(), url)["Location"] == INVALID


def test_setting_may_shorten_the_url_lifetime_but_never_lengthen_it(
    frozen_clock: datetime, settings: Settings
) -> None:
    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "direct_login_url_seconds": 3600}
    customer, _token, app_token = _set_up()
    direct_login(app_token, customer)
    row = DirectLoginTicket.objects.get(customer=customer)
    assert (row.expires_at - row.created_at).total_seconds() == 60


# --- the single-use URL --------------------------------------------------------------------


def test_only_a_sha256_of_the_url_token_is_stored(frozen_clock: datetime) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    secret = url.split("?t=", 1)[1]

    row = DirectLoginTicket.objects.get(customer=customer)
    assert row.token_hash == ticket_hash(secret)
    assert secret not in repr(list(DirectLoginTicket.objects.values()))


def test_url_used_twice_is_refused_the_second_time(frozen_clock: datetime) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    browser = phone_client()
    assert open_url(browser, url)["Location"] == TOP
    browser.post(reverse("customers:logout"))

    again = open_url(browser, url)

    assert again.status_code == 303
    assert again["Location"] == INVALID
    assert not _browser_is_logged_in(browser)
    refused = AuditRecord.objects.get(event="direct_login.open_refused")
    assert refused.data["reason"] == "used"


def test_url_opened_by_another_browser_after_the_first_is_refused(
    frozen_clock: datetime,
) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    first, second = phone_client(), phone_client()

    assert open_url(first, url)["Location"] == TOP
    r = open_url(second, url)

    assert r["Location"] == INVALID
    assert not _browser_is_logged_in(second)
    assert _browser_is_logged_in(first)


def test_url_after_sixty_seconds_is_refused(frozen_clock: datetime) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    clock.advance(60)

    browser = phone_client()
    r = open_url(browser, url)

    assert r["Location"] == INVALID
    assert not _browser_is_logged_in(browser)
    assert AuditRecord.objects.get(event="direct_login.open_refused").data["reason"] == "expired"


def test_url_just_before_sixty_seconds_still_works(frozen_clock: datetime) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    clock.advance(59)

    assert open_url(phone_client(), url)["Location"] == TOP


def test_url_is_worthless_after_a_suspension_or_session_revocation(
    frozen_clock: datetime,
) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    customer_security_counter_bump(customer=customer, reason="emergency_suspension")

    browser = phone_client()
    assert open_url(browser, url)["Location"] == INVALID
    assert not _browser_is_logged_in(browser)


def test_url_of_a_suspended_customer_is_refused(frozen_clock: datetime) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)

    assert open_url(phone_client(), url)["Location"] == INVALID


@pytest.mark.parametrize(
    "query",
    ["", "?t=", "?t=short", "?t=" + "A" * 43, "?t=" + "%00" * 43, "?t=" + "é" * 43, "?x=1"],
)
def test_unknown_or_malformed_url_is_refused_with_a_redirect_never_an_error(query: str) -> None:
    r = phone_client().get("/login/direct/" + query)
    assert r.status_code == 303
    assert r["Location"] == INVALID
    assert r["Cache-Control"] == "no-store"
    assert r["Referrer-Policy"] == "no-referrer"


def test_head_and_other_methods_do_not_consume_the_url(frozen_clock: datetime) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    path = url[len(BANK_URL) :]
    browser = phone_client()

    assert browser.head(path)["Location"] == INVALID
    # Any other method is refused outright (no token in the path Django logs for it).
    for method in ("POST", "PUT", "DELETE", "TRACE"):
        refused = browser.generic(method, path)
        assert refused.status_code == 405
        assert refused["Allow"] == "GET, HEAD"

    assert open_url(browser, url)["Location"] == TOP


def test_answers_are_clean_303s_with_no_store_and_no_referrer(frozen_clock: datetime) -> None:
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)

    r = open_url(phone_client(), url)

    assert r.status_code == 303
    assert r["Location"] == TOP  # a clean URL: no token in it
    assert r["Cache-Control"] == "no-store"
    assert r["Referrer-Policy"] == "no-referrer"
    failed = open_url(phone_client(), url)
    assert failed["Cache-Control"] == "no-store"
    assert failed["Referrer-Policy"] == "no-referrer"
    page = phone_client().get(INVALID)
    assert page.status_code == 200
    assert "有効期限" in visible_text(page)


def test_opening_the_url_starts_a_fresh_session_with_a_new_key(frozen_clock: datetime) -> None:
    customer, _token, app_token = _set_up()
    other = make_customer()
    browser = phone_client()
    phone_login(browser, other)  # someone else was logged in on this browser
    old_key = browser.session.session_key

    open_url(browser, direct_login(app_token, customer))

    assert browser.session.session_key != old_key
    assert browser.session["customer_id"] == customer.pk
    assert "otp_phone_apply" not in browser.session


def test_url_never_reaches_a_log_or_the_audit_trail(
    frozen_clock: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    customer, _token, app_token = _set_up()
    url = direct_login(app_token, customer)
    secret = url.split("?t=", 1)[1]
    open_url(phone_client(), url)
    open_url(phone_client(), url)  # refused: the refusal is not logged with the URL either
    phone_client().get("/login/direct/?t=" + secret + "x")

    assert secret not in caplog.text
    assert url not in caplog.text
    trail = json.dumps(list(AuditRecord.objects.values("event", "data", "ip")), default=str)
    assert secret not in trail
    assert ticket_hash(secret) not in trail


# --- one generic failure -------------------------------------------------------------------


def _failure(r: object) -> dict[str, str]:
    assert r.status_code == 403, r.content  # type: ignore[attr-defined]
    error: dict[str, str] = json.loads(r.content)["error"]  # type: ignore[attr-defined]
    return error


def test_every_kind_of_failure_gets_the_same_answer(frozen_clock: datetime) -> None:
    customer, token, app_token = _in_use()
    _other, other_token, _ = _in_use(make_customer())
    wrong_code = f"{(int(app_code(app_token)) + 1) % 10**6:06d}"
    tickets = DirectLoginTicket.objects.count()

    answers = [
        _failure(_post(_body(customer, token, app_token, password="Wrong-pass-1"))),
        _failure(_post(_body(customer, token, app_token, login_id="nosuchid99"))),
        _failure(_post(_body(customer, token, app_token, otp=wrong_code))),
        _failure(_post(_body(customer, token, app_token, user_id=other_token.user_id))),
        _failure(_post(_body(customer, token, app_token, service_id="999999"))),
    ]

    assert all(a == answers[0] for a in answers), answers
    assert answers[0]["code"] == "direct_login_failed"
    assert "ヘルプデスク" in answers[0]["message"]
    assert DirectLoginTicket.objects.count() == tickets


def test_wrong_password_counts_toward_the_login_lockout(frozen_clock: datetime) -> None:
    customer, token, app_token = _in_use()
    subject = lockout.subject_for_customer(customer)

    for _ in range(4):
        _failure(_post(_body(customer, token, app_token, password="Wrong-pass-1")))
    counter = FailureCounter.objects.get(kind=lockout.LOGIN_PASSWORD, subject=subject)
    assert counter.consecutive_failures == 4
    assert counter.locked_until is None

    _failure(_post(_body(customer, token, app_token, password="Wrong-pass-1")))

    counter.refresh_from_db()
    assert counter.locked_until is not None
    # The lock is the web login's too.
    web = phone_client()
    r = web.post("/", {"login_id": customer.login_id, "password": LOGIN_PASSWORD})
    assert r.status_code == 400
    assert "ヘルプデスク" in visible_text(r)
    # And the right password through the app is refused as well, with the same answer.
    clock.advance(token.period)
    _failure(_post(_body(customer, token, app_token)))
    assert (
        AuditRecord.objects.filter(
            customer_id=customer.pk, event="login.failed", data__channel="direct"
        ).count()
        == 5
    )


def test_web_login_failures_count_toward_the_direct_login_lock(frozen_clock: datetime) -> None:
    customer, token, app_token = _in_use()
    web = phone_client()
    for _ in range(5):
        web.post("/", {"login_id": customer.login_id, "password": "Wrong-pass-1"})

    _failure(_post(_body(customer, token, app_token)))


def test_wrong_otp_counts_toward_the_otp_lockout_shared_with_the_web(
    frozen_clock: datetime,
) -> None:
    customer, token, app_token = _in_use()
    wrong = f"{(int(app_code(app_token)) + 1) % 10**6:06d}"
    for _ in range(5):
        _failure(_post(_body(customer, token, app_token, otp=wrong)))

    status = lockout.lockout_status(
        kind=lockout.OTP, subject=lockout.subject_for_customer(customer)
    )
    assert status.locked
    _failure(_post(_body(customer, token, app_token)))


def test_replayed_code_is_refused(frozen_clock: datetime) -> None:
    customer, token, app_token = _in_use()
    body = _body(customer, token, app_token)
    assert _post(body).status_code == 200  # type: ignore[attr-defined]

    _failure(_post(body))


def test_another_customers_user_id_counts_as_a_wrong_otp(frozen_clock: datetime) -> None:
    customer, token, _app_token = _in_use()
    _other, other_token, other_app = _in_use(make_customer())

    _failure(
        _post(
            _body(customer, token, other_app, user_id=other_token.user_id, otp=app_code(other_app))
        )
    )

    counter = FailureCounter.objects.get(
        kind=lockout.OTP, subject=lockout.subject_for_customer(customer)
    )
    assert counter.consecutive_failures == 1
    other_token.refresh_from_db()
    assert other_token.last_step < clock.timestamp() // other_token.period


def test_superseded_issue_cannot_be_started_by_direct_login(frozen_clock: datetime) -> None:
    customer, token, app_token = _set_up()
    _apply_on_phone(customer)  # a newer issue voids the activated one

    _failure(_post(_body(customer, token, app_token)))
    token.refresh_from_db()
    assert token.state == Token.State.VOIDED


def test_suspended_customer_cannot_direct_login(frozen_clock: datetime) -> None:
    customer, token, app_token = _in_use()
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    tickets = DirectLoginTicket.objects.count()

    _failure(_post(_body(customer, token, app_token)))
    assert DirectLoginTicket.objects.count() == tickets


def test_direct_login_shares_the_login_throttle_per_client_address(
    frozen_clock: datetime, settings: Settings
) -> None:
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "login_per_ip_per_minute": 3}
    customer, token, app_token = _in_use()
    tickets = DirectLoginTicket.objects.count()
    ip = fresh_ip()
    web = Client(REMOTE_ADDR=ip)
    for _ in range(3):
        web.post("/", {"login_id": customer.login_id, "password": "Wrong-pass-1"})

    r = _post(_body(customer, token, app_token), ip=ip)

    assert r.status_code == 429  # type: ignore[attr-defined]
    assert json.loads(r.content)["error"]["code"] == "throttled"  # type: ignore[attr-defined]
    assert r["Retry-After"]  # type: ignore[index]
    # Refused before any check: the right credentials got no URL.
    assert DirectLoginTicket.objects.count() == tickets


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "bad_request"),
        (b"[1, 2]", 400, "bad_request"),
        (b"\xff\xfe", 400, "bad_request"),
        (b"[" * 100000, 400, "too_large"),
        ({"service_id": "100001"}, 400, "invalid_field"),
        (
            {
                "service_id": "100001",
                "user_id": "123",
                "login_id": "a",
                "password": "b",
                "otp": "123456",
            },
            400,
            "invalid_field",
        ),
        (
            {
                "service_id": "100001",
                "user_id": "123456789012",
                "login_id": "a",
                "password": "b",
                "otp": "12ab56",
            },
            400,
            "invalid_field",
        ),
        (
            {
                "service_id": "100001",
                "user_id": "123456789012",
                "login_id": "a\x00",
                "password": "b",
                "otp": "123456",
            },
            400,
            "invalid_field",
        ),
        (
            {
                "service_id": "100001",
                "user_id": "123456789012",
                "login_id": "a",
                "password": "b",
                "otp": 123456,
            },
            400,
            "invalid_field",
        ),
        (
            {
                "service_id": "100001",
                "user_id": "123456789012",
                "login_id": "a",
                "password": "b",
                "otp": "123456",
                "extra": "x",
            },
            400,
            "invalid_field",
        ),
    ],
)
def test_bad_input_gets_a_clear_json_error_and_changes_nothing(
    body: dict[str, object] | bytes, status: int, code: str
) -> None:
    r = _post(body)
    assert r.status_code == status  # type: ignore[attr-defined]
    assert json.loads(r.content)["error"]["code"] == code  # type: ignore[attr-defined]
    assert not FailureCounter.objects.exists()
    assert not DirectLoginTicket.objects.exists()


def test_wrong_media_type_and_method_get_json_errors() -> None:
    r = _post(b"a=b", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415  # type: ignore[attr-defined]
    r = Client().get(API)
    assert r.status_code == 405
    assert r["Allow"] == "POST"
    assert json.loads(r.content)["error"]["code"] == "method_not_allowed"


# --- the app's client -----------------------------------------------------------------------


def test_client_reports_the_banks_generic_failure(frozen_clock: datetime) -> None:
    customer, _token, app_token = _in_use()
    with pytest.raises(DirectLoginError) as caught:
        direct_login(app_token, customer, password="Wrong-pass-1")
    assert caught.value.code == "direct_login_failed"
    assert caught.value.status == 403
    assert "ログインできませんでした" in caught.value.message


def test_client_refuses_a_url_off_the_banks_site() -> None:
    def transport(url: str, body: bytes) -> tuple[int, bytes]:
        return 200, json.dumps({"status": "ok", "url": "https://evil.example/x"}).encode()

    client = DirectLoginClient(BANK_URL, transport=transport)
    with pytest.raises(DirectLoginError) as caught:
        client.direct_login(
            service_id=SERVICE_ID, user_id="123456789012", login_id="a", password="b", code="1"
        )
    assert caught.value.code == "untrusted"


def test_client_sends_one_request_and_never_retries() -> None:
    from netbank.token_app.client import NetworkError

    calls: list[bytes] = []

    def transport(url: str, body: bytes) -> tuple[int, bytes]:
        calls.append(body)
        raise NetworkError("connection reset")

    with pytest.raises(DirectLoginError) as caught:
        DirectLoginClient(BANK_URL, transport=transport).direct_login(
            service_id=SERVICE_ID, user_id="123456789012", login_id="a", password="b", code="1"
        )
    assert caught.value.code == "transport"
    assert len(calls) == 1


def test_client_refuses_plain_http_to_another_host() -> None:
    with pytest.raises(ValueError, match="https"):
        DirectLoginClient("http://bank.example.jp")


# --- the POST hand-off: the ticket in a form body, never in a URL ----------------------------

POST_OPEN = "/login/direct/open/"


def _ticket_answer(customer: Customer, token: Token, app_token: ActivatedToken) -> dict[str, str]:
    r = _post(_body(customer, token, app_token), secure=True)
    assert r.status_code == 200, r.content  # type: ignore[attr-defined]
    return json.loads(r.content)  # type: ignore[attr-defined,no-any-return]


def _post_ticket(browser: Client, ticket: str, **headers: str) -> Any:
    return browser.post(POST_OPEN, {"t": ticket}, secure=True, **headers)


def test_answer_names_the_post_endpoint_and_the_ticket_apart(frozen_clock: datetime) -> None:
    customer, token, app_token = _set_up()

    data = _ticket_answer(customer, token, app_token)

    assert data["post_url"] == "https://testserver" + POST_OPEN
    assert data["ticket"] not in data["post_url"]
    # The GET URL stays, as the documented fallback, and carries the same ticket.
    assert data["url"] == "https://testserver/login/direct/?t=" + data["ticket"]


def test_posted_ticket_logs_the_browser_in_once(frozen_clock: datetime) -> None:
    customer, token, app_token = _set_up()
    ticket = _ticket_answer(customer, token, app_token)["ticket"]

    # A local file:// page sends "Origin: null"; the browser must still get in.
    browser = phone_client()
    r = _post_ticket(browser, ticket, HTTP_ORIGIN="null")

    assert r.status_code == 303
    assert r["Location"] == TOP
    assert r["Cache-Control"] == "no-store"
    assert r["Referrer-Policy"] == "no-referrer"
    assert _browser_is_logged_in(browser)
    assert browser.session["customer_id"] == customer.pk

    other = phone_client()
    again = _post_ticket(other, ticket, HTTP_ORIGIN="null")
    assert again["Location"] == INVALID
    assert not _browser_is_logged_in(other)
    # Nor does the GET form of the same ticket work after the POST consumed it.
    assert phone_client().get("/login/direct/?t=" + ticket)["Location"] == INVALID


def test_posted_ticket_after_sixty_seconds_is_refused(frozen_clock: datetime) -> None:
    customer, token, app_token = _set_up()
    ticket = _ticket_answer(customer, token, app_token)["ticket"]
    clock.advance(60)

    browser = phone_client()
    assert _post_ticket(browser, ticket)["Location"] == INVALID
    assert not _browser_is_logged_in(browser)
    assert AuditRecord.objects.get(event="direct_login.open_refused").data["reason"] == "expired"


def test_posted_ticket_just_before_sixty_seconds_works(frozen_clock: datetime) -> None:
    customer, token, app_token = _set_up()
    ticket = _ticket_answer(customer, token, app_token)["ticket"]
    clock.advance(59)

    assert _post_ticket(phone_client(), ticket)["Location"] == TOP


@pytest.mark.parametrize("method", ["get", "head", "put", "delete", "options"])
def test_post_endpoint_answers_other_methods_405_and_consumes_nothing(
    frozen_clock: datetime, method: str
) -> None:
    customer, token, app_token = _set_up()
    ticket = _ticket_answer(customer, token, app_token)["ticket"]
    browser = phone_client()

    r = getattr(browser, method)(POST_OPEN + "?t=" + ticket, secure=True)

    assert r.status_code == 405
    assert r["Allow"] == "POST"
    assert not _browser_is_logged_in(browser)
    assert _post_ticket(phone_client(), ticket)["Location"] == TOP


def test_post_from_a_foreign_web_page_is_refused_and_consumes_nothing(
    frozen_clock: datetime,
) -> None:
    customer, token, app_token = _set_up()
    ticket = _ticket_answer(customer, token, app_token)["ticket"]
    browser = phone_client()

    r = _post_ticket(browser, ticket, HTTP_ORIGIN="https://evil.example")

    assert r["Location"] == INVALID
    assert not _browser_is_logged_in(browser)
    # The bank's own origin and a local page (no Origin, or "null") are let through.
    assert _post_ticket(phone_client(), ticket, HTTP_ORIGIN="https://testserver")["Location"] == TOP


@pytest.mark.parametrize(
    "form", [{}, {"t": ""}, {"t": "short"}, {"t": "A" * 43}, {"t": "é" * 43}, {"x": "1"}]
)
def test_post_with_no_or_a_malformed_ticket_is_a_clean_redirect(form: dict[str, str]) -> None:
    r = phone_client().post(POST_OPEN, form, secure=True)
    assert r.status_code == 303
    assert r["Location"] == INVALID


def test_posted_ticket_never_reaches_a_log(
    frozen_clock: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    customer, token, app_token = _set_up()
    ticket = _ticket_answer(customer, token, app_token)["ticket"]
    _post_ticket(phone_client(), ticket, HTTP_ORIGIN="null")
    _post_ticket(phone_client(), ticket)  # refused
    phone_client().get(POST_OPEN + "?t=" + ticket)  # wrong method: logged by Django as a 405

    assert "Method Not Allowed" in caplog.text  # the 405 was logged, without the ticket
    assert ticket not in caplog.text
