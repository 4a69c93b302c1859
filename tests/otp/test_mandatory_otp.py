"""OTP mandatory (``NETBANK_OTP_MANDATORY=true``): a customer without OTP in use is
confined to the OTP application, whatever the User-Agent says.

A PC login lands on ワンタイムパスワード申請内容選択 and may use only the トークン発行
pages, 利用開始 and logout; a phone login gets SLI012 only. The User-Agent of each later
request chooses which of the two a redirect points to, never whether the rest of the
bank opens: a desktop login that turns into an iPhone (Safari's 「デスクトップ用Webサイト
を表示」 in reverse) gets no further, and neither does a phone login that turns into a
desktop. Only 利用開始 completed in the session itself (an OTP from the new token) opens
the bank to it.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from netbank import clock
from netbank.banking.models import Payee, Transfer
from netbank.customers import session as customer_session
from netbank.customers.models import Customer
from netbank.otp.models import Token
from tests.banking.factories import open_account
from tests.otp.test_phone_support import (
    ACTIVATION_PASSWORD,
    ANSWER,
    IPHONE_UA,
    PC_UA,
    PHONE_MAIL,
    TRANSACTION_PASSWORD,
    activate,
    app_code,
    apply_data,
    location,
    make_customer,
    page_text,
    phone_client,
    phone_login,
)
from tests.otp.test_screens_support import login as screens_login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

MENU = "/procedures/otp/"
APPLY = "/sp/otp/apply/"
TOP = "/top/"
UAS = {"pc": PC_UA, "iphone": IPHONE_UA}
# Where a confined session is sent, by the User-Agent of the request.
ENTRY = {"pc": MENU, "iphone": APPLY}


@pytest.fixture
def mandatory(settings: SettingsWrapper) -> None:
    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "mandatory": True}


def _bank_pages(customer: Customer) -> list[str]:
    """Pages a logged-in customer normally reaches: トップ, 口座, 振込, 振替, settings."""
    account = open_account(customer, balance=100_000)
    return [
        TOP,
        "/procedures/",
        "/procedures/secret-questions/",
        "/banking/balance/",
        f"/banking/accounts/{account.pk}/statement/",
        f"/banking/accounts/{account.pk}/statement.csv",
        "/banking/furikomi/",
        "/banking/furikomi/input/",
        "/banking/furikae/",
        "/banking/transfer/confirm/",
        "/banking/scheduled/",
        "/banking/payees/",
        "/banking/payees/add/",
        "/banking/limit/",
        "/security/login-history/",
        "/procedures/otp/cancel/",
    ]


def _pc_login(customer: Customer) -> Client:
    client = phone_client(ua=PC_UA)
    r = phone_login(client, customer)
    assert location(r) == MENU, location(r)
    return client


# --- a desktop login ------------------------------------------------------------------


def test_pc_login_without_otp_lands_in_the_otp_application(mandatory: None) -> None:
    customer = make_customer()
    client = _pc_login(customer)

    page = client.get(MENU)
    assert page.status_code == 200
    text = page_text(page)
    assert "ワンタイムパスワード申請内容選択" in text
    assert "ワンタイムパスワードのご利用が必須です" in text
    assert client.get(reverse("otp:issue")).status_code == 200


@pytest.mark.parametrize("ua", ["pc", "iphone"])
def test_desktop_login_reaches_no_bank_page_with_either_user_agent(
    mandatory: None, ua: str
) -> None:
    customer = make_customer()
    client = _pc_login(customer)

    for url in _bank_pages(customer):
        r = client.get(url, HTTP_USER_AGENT=UAS[ua])
        assert r.status_code == 302, (url, r.status_code)
        assert location(r) == ENTRY[ua], (url, location(r))
    # Still confined, not logged out: the OTP application is there on both.
    assert client.get(MENU, HTTP_USER_AGENT=PC_UA).status_code == 200
    assert client.get(APPLY, HTTP_USER_AGENT=IPHONE_UA).status_code == 200


def test_desktop_login_posts_nothing_to_the_bank(mandatory: None) -> None:
    customer = make_customer()
    client = _pc_login(customer)
    account = open_account(customer, balance=100_000)

    for url, data in (
        (
            "/banking/furikomi/input/",
            {
                "from_account": str(account.pk),
                "bank_code": "0005",
                "branch_code": "001",
                "account_type": "ordinary",
                "account_number": "1234567",
                "holder_kana": "ﾀﾅｶ ｲﾁﾛｳ",
                "amount": "1000",
            },
        ),
        ("/banking/transfer/confirm/", {"transaction_password": TRANSACTION_PASSWORD}),
        ("/banking/payees/add/", {"bank_code": "0005", "account_number": "1234567"}),
        ("/banking/limit/", {"daily_limit": "9999999"}),
    ):
        for ua in UAS.values():
            r = client.post(url, data, HTTP_USER_AGENT=ua)
            assert r.status_code == 302, (url, r.status_code)
            assert location(r) in (MENU, APPLY), (url, location(r))
    assert not Transfer.objects.exists()
    assert not Payee.objects.exists()


def test_the_otp_application_runs_to_the_end_and_only_then_opens_the_bank(
    mandatory: None,
) -> None:
    customer = make_customer()
    client = _pc_login(customer)

    # トークン発行（入力）→（確認）→（完了）.
    r = client.post(
        reverse("otp:issue"),
        {
            "email": PHONE_MAIL,
            "activation_password": ACTIVATION_PASSWORD,
            "activation_password_confirm": ACTIVATION_PASSWORD,
        },
    )
    assert location(r) == reverse("otp:issue_confirm")
    r = client.post(
        reverse("otp:issue_confirm"),
        {"transaction_password": TRANSACTION_PASSWORD, "answer": ANSWER, "action": "confirm"},
    )
    assert location(r) == reverse("otp:issue_done")
    assert client.get(reverse("otp:issue_done")).status_code == 200
    token = Token.objects.get(customer=customer)

    # The app's 初期設定 alone opens nothing: the token is not in use yet.
    app_token = activate(token)
    assert location(client.get(TOP)) == MENU
    assert client.get(reverse("otp:start_use")).status_code == 200

    # 利用開始 with the app's code: the OTP was given in this session.
    clock.advance(token.period)
    before = client.session.session_key
    r = client.post(reverse("otp:start_use"), {"code": app_code(app_token)})
    assert location(r) == reverse("otp:start_use_done")
    assert client.get(reverse("otp:start_use_done")).status_code == 200
    # A session that gains rights gets a new key.
    assert client.session.session_key != before
    for ua in UAS.values():
        assert client.get(TOP, HTTP_USER_AGENT=ua).status_code == 200
        assert client.get("/banking/furikomi/", HTTP_USER_AGENT=ua).status_code == 200


def test_a_token_put_in_use_elsewhere_ends_this_session(mandatory: None) -> None:
    """Only an OTP given in a session lets it in: this one ends, and the login page says
    to log in again with the OTP."""
    customer = make_customer()
    client = _pc_login(customer)
    client.post(
        reverse("otp:issue"),
        {
            "email": PHONE_MAIL,
            "activation_password": ACTIVATION_PASSWORD,
            "activation_password_confirm": ACTIVATION_PASSWORD,
        },
    )
    client.post(
        reverse("otp:issue_confirm"),
        {"transaction_password": TRANSACTION_PASSWORD, "answer": ANSWER, "action": "confirm"},
    )
    token = Token.objects.get(customer=customer)
    app_token = activate(token)
    # 利用開始 from another browser.
    other = _pc_login(customer)
    clock.advance(token.period)
    r = other.post(reverse("otp:start_use"), {"code": app_code(app_token)})
    assert location(r) == reverse("otp:start_use_done")

    assert other.get(TOP).status_code == 200
    r = client.get(TOP, HTTP_USER_AGENT=IPHONE_UA)
    assert location(r) == "/?ended=otp_in_use"
    login_page = page_text(client.get(location(r)))
    assert "ワンタイムパスワードでもう一度ログインしてください" in login_page
    assert location(client.get("/banking/furikomi/")) == "/"


def test_logout_and_the_security_stop_stay_open(mandatory: None) -> None:
    customer = make_customer()
    client = _pc_login(customer)

    assert client.get(reverse("customers:emergency_stop")).status_code == 200
    assert client.get(reverse("customers:session_status")).json()["authenticated"] is True
    r = client.post(reverse("customers:logout"))
    assert location(r) == "/?ended=logout"
    assert location(client.get(TOP)) == "/"
    assert location(client.get(MENU)) == "/"


def test_a_session_from_before_otp_became_mandatory_is_confined_too(
    settings: SettingsWrapper,
) -> None:
    customer = make_customer()
    client = phone_client(ua=PC_UA)
    assert location(phone_login(client, customer)) == TOP
    assert client.get(TOP).status_code == 200
    assert not client.session.get(customer_session.OTP_SETUP_ONLY)

    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "mandatory": True}

    assert location(client.get(TOP)) == MENU
    assert location(client.get("/banking/furikomi/", HTTP_USER_AGENT=IPHONE_UA)) == APPLY


def test_sli012_in_a_desktop_session_logs_out_on_cancel_and_back(mandatory: None) -> None:
    customer = make_customer()
    for action in ("cancel", "back"):
        client = _pc_login(customer)
        r = client.post(APPLY, {"action": action}, HTTP_USER_AGENT=IPHONE_UA)
        assert location(r) == "/?ended=logout", action
        assert location(client.get(TOP)) == "/"


def test_sli012_from_a_desktop_login_issues_and_keeps_the_session_confined(
    mandatory: None,
) -> None:
    customer = make_customer()
    client = _pc_login(customer)

    r = client.post(APPLY, apply_data(), HTTP_USER_AGENT=IPHONE_UA)
    assert location(r) == "/sp/otp/apply/done/"
    assert Token.objects.get(customer=customer).state == Token.State.ISSUED
    assert location(client.get(TOP, HTTP_USER_AGENT=IPHONE_UA)) == APPLY
    assert location(client.get(TOP, HTTP_USER_AGENT=PC_UA)) == MENU


# --- a phone login --------------------------------------------------------------------


def test_phone_login_turned_desktop_still_reaches_only_sli012(mandatory: None) -> None:
    customer = make_customer()
    client = phone_client(ua=IPHONE_UA)
    assert location(phone_login(client, customer)) == APPLY

    for url in [*_bank_pages(customer), MENU, reverse("otp:issue"), reverse("otp:start_use")]:
        r = client.get(url, HTTP_USER_AGENT=PC_UA)
        assert r.status_code == 302, (url, r.status_code)
        assert location(r) == APPLY, (url, location(r))
        # And nothing opened on the way: the phone still sees only SLI012.
        assert location(client.get(url, HTTP_USER_AGENT=IPHONE_UA)) == APPLY, url
    assert client.get(APPLY, HTTP_USER_AGENT=PC_UA).status_code == 200
    assert client.get(APPLY, HTTP_USER_AGENT=IPHONE_UA).status_code == 200


# --- the optional mode is unchanged ----------------------------------------------------


@pytest.mark.parametrize("ua", ["pc", "iphone"])
def test_optional_mode_still_opens_the_bank_without_a_token(ua: str) -> None:
    customer = make_customer()
    client = phone_client(ua=UAS[ua])
    r = phone_login(client, customer)
    assert location(r) == (TOP if ua == "pc" else APPLY)
    if ua == "iphone":
        assert location(client.post(APPLY, {"action": "cancel"})) == TOP
    for url in (TOP, "/banking/furikomi/", "/banking/balance/"):
        assert client.get(url).status_code == 200, url
    assert not client.session.get(customer_session.OTP_SETUP_ONLY)


def test_mandatory_login_with_otp_in_use_is_not_confined(mandatory: None) -> None:
    customer = make_customer()
    client = _pc_login(customer)
    client.post(
        reverse("otp:issue"),
        {
            "email": PHONE_MAIL,
            "activation_password": ACTIVATION_PASSWORD,
            "activation_password_confirm": ACTIVATION_PASSWORD,
        },
    )
    client.post(
        reverse("otp:issue_confirm"),
        {"transaction_password": TRANSACTION_PASSWORD, "answer": ANSWER, "action": "confirm"},
    )
    token = Token.objects.get(customer=customer)
    app_token = activate(token)
    clock.advance(token.period)
    client.post(reverse("otp:start_use"), {"code": app_code(app_token)})
    token.refresh_from_db()
    assert token.state == Token.State.IN_USE

    fresh = screens_login(customer, client=phone_client(ua=PC_UA), token=token)
    assert fresh.get(TOP).status_code == 200
    assert fresh.get("/banking/furikomi/", HTTP_USER_AGENT=IPHONE_UA).status_code == 200


# --- deny by default -------------------------------------------------------------------


def _named_routes() -> list[tuple[str, str]]:
    """(view name, namespace) of every named route of the bank."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: list[tuple[str, str]] = []

    def walk(patterns: list[object], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                found.append((f"{namespace}:{p.name}" if namespace else p.name, namespace))

    walk(get_resolver().url_patterns, "")
    return found


def _path_of(view_name: str) -> str:
    from django.urls import NoReverseMatch

    for kwargs in (
        {},
        {"account_id": 1},
        {"transfer_id": 1},
        {"payee_id": 1},
        {"token": "x"},
        {"passkey_id": 1},
    ):
        try:
            return reverse(view_name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    raise AssertionError(f"cannot build a path for {view_name}")


def test_every_route_outside_the_lists_redirects_a_confined_session(mandatory: None) -> None:
    from netbank.otp.tokens import confinement

    routes = _named_routes()
    names = {name for name, _ in routes}
    # The lists name only real routes (a renamed view must not silently open or close).
    assert names >= confinement.OTP_APPLICATION
    assert names >= confinement.OPEN_VIEWS

    closed = [
        name
        for name, namespace in routes
        if not confinement.view_allowed(confinement.LOGGED_IN, name, namespace)
    ]
    assert "customers:top" in closed
    assert "banking:furikomi" in closed
    customer = make_customer()
    client = _pc_login(customer)
    for name in closed:
        path = _path_of(name)
        for ua, entry in (("pc", MENU), ("iphone", APPLY)):
            r = client.get(path, HTTP_USER_AGENT=UAS[ua])
            assert location(r) == entry, (name, r.status_code)


def test_a_directlogin_url_opened_in_a_confined_browser_opens_a_full_session(
    mandatory: None,
) -> None:
    from tests.otp.test_phone_support import direct_login, open_url

    customer = make_customer()
    client = _pc_login(customer)
    client.post(APPLY, apply_data(), HTTP_USER_AGENT=IPHONE_UA)
    token = Token.objects.get(customer=customer)
    app_token = activate(token)
    clock.advance(token.period)

    # The app's Directログイン puts the token in use (利用開始) with its OTP.
    r = open_url(client, direct_login(app_token, customer))
    assert location(r) == TOP
    assert not client.session.get(customer_session.OTP_SETUP_ONLY)
    assert client.get(TOP, secure=True).status_code == 200
    assert client.get("/banking/furikomi/", secure=True).status_code == 200
