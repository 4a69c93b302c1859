"""The passkey screens and the passkey login through Django's test client: what each
screen checks, what a refusal says, and that no bad input becomes a 500."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.customers import lockout
from netbank.customers import session as customer_session
from netbank.customers.models import Customer
from netbank.notifications.models import OutboxMail
from netbank.oath.totp import totp
from netbank.passkeys import services
from netbank.passkeys.models import Passkey
from tests.customers.factories import PASSWORD, TRANSACTION_PASSWORD, make_customer
from tests.otp.factories import SEED, in_use_token
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db

ORIGIN = "https://bank.example.jp"
LIST = "/procedures/passkeys/"
REGISTER = "/procedures/passkeys/register/"
CREATE = "/procedures/passkeys/register/create/"
OPTIONS = "/procedures/passkeys/register/options"
FINISH = "/procedures/passkeys/register/finish"
LOGIN = "/login/passkey/"


@pytest.fixture(autouse=True)
def _bank(settings: Settings, frozen_clock: datetime) -> None:
    settings.NETBANK_PUBLIC_URL = ORIGIN


@pytest.fixture
def customer() -> Customer:
    c = make_customer()
    in_use_token(c)
    return c


def otp() -> str:
    return totp(SEED, clock.timestamp())


def logged_in(customer: Customer) -> Client:
    client = Client()
    client.post("/", {"login_id": customer.login_id, "password": PASSWORD})
    response = client.post("/login/otp/", {"code": otp()})
    assert response.status_code == 302
    clock.advance(30)  # the next OTP is a new one
    return client


def register_post(client: Client, **fields: str) -> object:
    data = {
        "name": "iPhone",
        "code": otp(),
        "transaction_password": TRANSACTION_PASSWORD,
        "action": "confirm",
    }
    data.update(fields)
    return client.post(REGISTER, data)


def test_the_procedures_menu_leads_to_passkeys(customer: Customer) -> None:
    client = logged_in(customer)
    assert 'href="/procedures/passkeys/"' in client.get("/procedures/").text
    page = client.get(LIST).text
    assert "登録済みのパスキーはありません。" in page
    assert REGISTER in page


def test_a_customer_without_otp_in_use_cannot_register() -> None:
    customer = make_customer()
    client = Client()
    client.post("/", {"login_id": customer.login_id, "password": PASSWORD})
    client.get("/login/otp/")  # no token: logged in with the password alone
    page = client.get(LIST).text
    assert "ワンタイムパスワードをご利用中のお客さまが登録できます" in page
    assert REGISTER not in page
    assert client.get(REGISTER).status_code == 302
    assert client.post(OPTIONS).status_code == 403


def test_register_checks_the_transaction_password_and_the_otp(customer: Customer) -> None:
    client = logged_in(customer)
    assert client.post(OPTIONS).status_code == 403  # nothing authorised yet
    wrong_password = register_post(client, transaction_password="Wrong-999")
    assert wrong_password.status_code == 400  # type: ignore[attr-defined]
    assert "確認用パスワードが正しくありません。" in wrong_password.text  # type: ignore[attr-defined]
    wrong_otp = register_post(client, code="000000" if otp() != "000000" else "111111")
    assert "ワンタイムパスワードが正しくありません。" in wrong_otp.text  # type: ignore[attr-defined]
    status = lockout.lockout_status(
        kind=lockout.OTP, subject=lockout.subject_for_customer(customer)
    )
    assert status.failures == 1
    full_width = register_post(client, code="１２３４５６")
    assert full_width.status_code == 400  # type: ignore[attr-defined]
    assert "半角数字" in full_width.text  # type: ignore[attr-defined]
    too_long = register_post(client, name="あ" * 31)
    assert "30文字以内" in too_long.text  # type: ignore[attr-defined]
    assert client.get(CREATE).status_code == 302  # still not authorised

    ok = register_post(client)
    assert ok.headers["Location"] == CREATE  # type: ignore[attr-defined]
    assert "iPhone" in client.get(CREATE).text
    options = client.post(OPTIONS).json()
    soft = SoftAuthenticator(rp_id="bank.example.jp", origin=ORIGIN, synced=True)
    done = client.post(FINISH, {"credential": json.dumps(soft.create(options))})
    assert done.headers["Location"] == "/procedures/passkeys/register/done/"
    page = client.get(done.headers["Location"]).text
    assert "パスキーの登録（完了）" in page
    assert "同期パスキー" in page
    assert Passkey.objects.get().name == "iPhone"
    # Authorised once: the next passkey needs the OTP and the password again.
    assert client.post(OPTIONS).status_code == 403


def test_the_authorisation_to_register_lasts_5_minutes(customer: Customer) -> None:
    client = logged_in(customer)
    register_post(client)
    clock.advance(200)
    client.post("/session/extend")  # keep the session itself alive
    clock.advance(101)
    assert client.post(OPTIONS).status_code == 403
    assert client.get(CREATE).status_code == 302


@pytest.mark.parametrize(
    "credential", ["", "not json", "[]", '{"id": 1}', '{"response": {"clientDataJSON": "@@"}}']
)
def test_a_bad_credential_is_a_message_not_an_error(customer: Customer, credential: str) -> None:
    client = logged_in(customer)
    register_post(client)
    client.post(OPTIONS)
    refused = client.post(FINISH, {"credential": credential})
    assert refused.status_code == 400
    assert "パスキーを登録できませんでした" in refused.text
    login = Client().post(LOGIN, {"credential": credential})
    assert login.status_code == 400
    assert "パスキーを確認できませんでした" in login.text


def test_the_register_screen_is_a_lock_screen_while_the_otp_is_locked(customer: Customer) -> None:
    client = logged_in(customer)
    for _ in range(5):
        lockout.lockout_register_failure(
            kind=lockout.OTP, subject=lockout.subject_for_customer(customer), customer=customer
        )
    page = client.get(REGISTER).text
    assert "ワンタイムパスワードを続けて誤って入力されたため" in page
    assert register_post(client).status_code == 400  # type: ignore[attr-defined]
    assert client.post(OPTIONS).status_code == 403


def _with_passkey(customer: Customer) -> SoftAuthenticator:
    soft = SoftAuthenticator(rp_id="bank.example.jp", origin=ORIGIN)
    services.register(
        customer=customer,
        response=soft.create(services.registration_options(customer=customer)),
        name="iPhone",
        ip=None,
    )
    return soft


def passkey_login(client: Client, soft: SoftAuthenticator) -> object:
    options = client.post("/login/passkey/options").json()
    return client.post(LOGIN, {"credential": json.dumps(soft.get(options))})


def test_a_passkey_login_is_a_full_login(customer: Customer) -> None:
    soft = _with_passkey(customer)
    client = Client()
    response = passkey_login(client, soft)
    assert response.headers["Location"] == "/top/"  # type: ignore[attr-defined]
    assert client.session[customer_session.CUSTOMER_ID] == customer.pk
    assert client.session[customer_session.CHANNEL] == "passkey"
    assert client.get("/top/").status_code == 200
    notice = OutboxMail.objects.filter(purpose="login_notice").latest("pk")
    assert "パスキーでのログイン" in notice.body


def test_a_suspended_customer_cannot_log_in_with_a_passkey(customer: Customer) -> None:
    soft = _with_passkey(customer)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    client = Client()
    response = passkey_login(client, soft)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "お取引は停止されています" in response.text  # type: ignore[attr-defined]
    assert customer_session.CUSTOMER_ID not in client.session


def test_passkey_logins_are_throttled_per_client(customer: Customer, settings: Settings) -> None:
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "login_per_ip_per_minute": 1}
    soft = _with_passkey(customer)
    client = Client()
    client.post("/", {"login_id": "nobody01", "password": "x"})
    response = passkey_login(client, soft)
    assert response.status_code == 429  # type: ignore[attr-defined]


def test_removing_the_last_passkey_needs_the_otp(customer: Customer) -> None:
    _with_passkey(customer)
    second = _with_passkey(customer)
    del second
    first, last = Passkey.objects.order_by("pk")
    client = logged_in(customer)
    page = client.get(f"/procedures/passkeys/{first.pk}/remove/").text
    assert "最後のパスキーです" not in page
    assert (
        client.post(f"/procedures/passkeys/{first.pk}/remove/", {"action": "remove"}).status_code
        == 302
    )
    page = client.get(f"/procedures/passkeys/{last.pk}/remove/").text
    assert "最後のパスキーです" in page
    refused = client.post(f"/procedures/passkeys/{last.pk}/remove/", {"action": "remove"})
    assert refused.status_code == 400
    assert Passkey.objects.get(pk=last.pk).revoked_at is None
    removed = client.post(
        f"/procedures/passkeys/{last.pk}/remove/", {"action": "remove", "code": otp()}
    )
    assert removed.headers["Location"] == LIST + "?done=removed"
    assert Passkey.objects.get(pk=last.pk).revoked_at is not None
    assert OutboxMail.objects.filter(purpose="passkey_removed").count() == 2


def test_another_customers_passkey_is_not_found(customer: Customer) -> None:
    other = make_customer()
    in_use_token(other)
    _with_passkey(other)
    theirs = Passkey.objects.get()
    client = logged_in(customer)
    for action in ("rename", "remove"):
        url = f"/procedures/passkeys/{theirs.pk}/{action}/"
        assert client.get(url).headers["Location"] == LIST
        assert client.post(url, {"name": "x", "action": action}).headers["Location"] == LIST
    assert Passkey.objects.get().name == "iPhone"
    assert Passkey.objects.get().revoked_at is None


def test_login_options_are_limited_per_client(settings: Settings) -> None:
    client = Client()
    for _ in range(services.OPTIONS_PER_IP_PER_MINUTE):
        assert client.post("/login/passkey/options").status_code == 200
    refused = client.post("/login/passkey/options")
    assert refused.status_code == 429
    assert "しばらくしてから" in refused.json()["error"]
    clock.advance(60)
    assert client.post("/login/passkey/options").status_code == 200
