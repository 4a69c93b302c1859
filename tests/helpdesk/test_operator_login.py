"""Operator login: password + OTP, lockout, throttling, sessions kept apart from customers."""

from __future__ import annotations

import base64
import io
import json

import pyotp
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.helpdesk.models import OperatorCredential
from netbank.helpdesk.operators import (
    OperatorError,
    _unseal,
    operator_reenrol,
    operator_unlock,
)
from tests.customers.support import counting_hasher
from tests.helpdesk.factories import (
    OPERATOR_PASSWORD,
    customer_logged_in,
    customer_login,
    make_customer,
    make_operator,
    operator_login,
)

pytestmark = pytest.mark.django_db

GENERIC = "ユーザー名、パスワードまたはワンタイムパスワードが正しくないか"


def post_login(client: Client, username: str, password: str, code: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/helpdesk/login/", {"username": username, "password": password, "code": code}
    )


def test_operator_logs_in_with_password_and_otp_and_gets_a_new_session_key() -> None:
    op = make_operator()
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.get("/helpdesk/login/")
    before = client.session.session_key
    operator_login(op, client)
    assert client.session.session_key != before
    assert client.get("/helpdesk/").status_code == 200
    credential = OperatorCredential.objects.get(user=op.user)
    assert credential.confirmed_at is not None
    assert AuditRecord.objects.filter(event="helpdesk.login", operator_id=op.user.pk).exists()


def test_correct_password_with_wrong_otp_is_refused_with_the_generic_message() -> None:
    op = make_operator()
    r = post_login(Client(), op.user.username, OPERATOR_PASSWORD, "000000")
    assert r.status_code == 400
    assert GENERIC in r.content.decode()
    assert "_auth_user_id" not in Client().session


def test_wrong_password_with_right_otp_is_refused_and_does_not_spend_the_code() -> None:
    op = make_operator()
    code = op.code()
    assert post_login(Client(), op.user.username, "wrong-password-1", code).status_code == 400
    # The code was never checked, so it still works with the right password.
    r = post_login(Client(), op.user.username, OPERATOR_PASSWORD, code)
    assert r.status_code == 302


def test_an_otp_code_is_accepted_once_only() -> None:
    op = make_operator()
    code = op.code()
    assert post_login(Client(), op.user.username, OPERATOR_PASSWORD, code).status_code == 302
    r = post_login(Client(), op.user.username, OPERATOR_PASSWORD, code)
    assert r.status_code == 400
    assert GENERIC in r.content.decode()


def test_fifth_failure_locks_the_operator_even_for_the_right_password_and_code() -> None:
    op = make_operator()
    for _ in range(5):
        assert (
            post_login(Client(), op.user.username, "wrong-password-1", "123456").status_code == 400
        )
    assert OperatorCredential.objects.get(user=op.user).locked_at is not None
    clock.advance(30)
    r = post_login(Client(), op.user.username, OPERATOR_PASSWORD, op.code())
    assert r.status_code == 400
    assert AuditRecord.objects.filter(
        event="helpdesk.operator_locked", operator_id=op.user.pk
    ).exists()


def test_a_supervisor_unlocks_another_operator_but_not_themself() -> None:
    op = make_operator()
    sup = make_operator("supervisor")
    OperatorCredential.objects.filter(user=op.user).update(locked_at=clock.now())
    with pytest.raises(OperatorError):
        operator_unlock(target=sup.user, supervisor=sup.user, reason="自分のロック解除")
    with pytest.raises(OperatorError):
        operator_unlock(target=sup.user, supervisor=op.user, reason="権限のない解除")
    operator_unlock(target=op.user, supervisor=sup.user, reason="本人から電話で依頼")
    assert OperatorCredential.objects.get(user=op.user).locked_at is None
    operator_login(op)


def test_supervisor_unlocks_an_operator_in_the_console() -> None:
    op = make_operator()
    sup = make_operator("supervisor")
    OperatorCredential.objects.filter(user=op.user).update(locked_at=clock.now())
    client = operator_login(sup)
    r = client.post(f"/helpdesk/operators/{op.user.pk}/unlock/", {"reason": ""})
    assert r.status_code == 400
    assert OperatorCredential.objects.get(user=op.user).locked_at is not None
    r = client.post(f"/helpdesk/operators/{op.user.pk}/unlock/", {"reason": "本人から依頼あり"})
    assert r.status_code == 302
    assert OperatorCredential.objects.get(user=op.user).locked_at is None


def test_a_plain_operator_cannot_open_the_operator_list() -> None:
    client = operator_login(make_operator())
    assert client.get("/helpdesk/operators/").status_code == 403


def test_unknown_user_costs_one_hash_like_a_wrong_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    op = make_operator()
    with counting_hasher(monkeypatch) as calls:
        post_login(Client(), "nobody-here", "some-password-1", "123456")
    unknown = calls.total
    with counting_hasher(monkeypatch) as calls:
        post_login(Client(), op.user.username, "some-password-1", "123456")
    assert unknown == calls.total == 1


def test_the_address_is_throttled_before_any_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(REMOTE_ADDR="192.0.2.99")
    for _ in range(10):
        post_login(client, "nobody-here", "some-password-1", "123456")
    with counting_hasher(monkeypatch) as calls:
        r = post_login(client, "nobody-here", "some-password-1", "123456")
    assert r.status_code == 429
    assert calls.total == 0


def test_a_user_without_a_console_role_cannot_log_in() -> None:
    op = make_operator()
    op.user.groups.clear()
    r = post_login(Client(), op.user.username, OPERATOR_PASSWORD, op.code())
    assert r.status_code == 400


def test_every_console_page_sends_an_anonymous_visitor_to_the_login() -> None:
    customer = make_customer()
    client = Client()
    for url in [
        "/helpdesk/",
        f"/helpdesk/customers/{customer.pk}/",
        f"/helpdesk/customers/{customer.pk}/audit/",
        f"/helpdesk/customers/{customer.pk}/suspend/",
        f"/helpdesk/customers/{customer.pk}/lift/",
        f"/helpdesk/customers/{customer.pk}/token-reset/",
        f"/helpdesk/customers/{customer.pk}/token-mail/",
        f"/helpdesk/customers/{customer.pk}/unlock/1/",
        "/helpdesk/lift-requests/1/",
        "/helpdesk/operators/",
        "/helpdesk/operators/1/unlock/",
    ]:
        r = client.get(url)
        assert r.status_code == 302, url
        assert r["Location"].startswith("/helpdesk/login/"), url
        r = client.post(url, {"reason": "緊急停止の依頼", "confirm": "on"})
        assert r.status_code in (302, 403), url
    customer.refresh_from_db()
    assert customer.status == "active"


def test_the_operator_session_ends_after_the_idle_time() -> None:
    client = operator_login(make_operator())
    clock.advance(9 * 60)
    assert client.get("/helpdesk/").status_code == 200
    clock.advance(10 * 60 + 1)
    r = client.get("/helpdesk/")
    assert r.status_code == 302
    assert r["Location"] == "/helpdesk/login/?ended=idle"
    assert client.get("/helpdesk/").status_code == 302


def test_the_operator_session_ends_after_its_absolute_lifetime() -> None:
    client = operator_login(make_operator())
    for _ in range(8 * 6):
        clock.advance(10 * 60 - 1)
        assert client.get("/helpdesk/").status_code == 200
    clock.advance(60)
    r = client.get("/helpdesk/")
    assert r["Location"] == "/helpdesk/login/?ended=expired"


def test_locking_an_operator_ends_their_session_on_the_next_request() -> None:
    op = make_operator()
    client = operator_login(op)
    OperatorCredential.objects.filter(user=op.user).update(locked_at=clock.now())
    r = client.get("/helpdesk/")
    assert r["Location"] == "/helpdesk/login/?ended=revoked"


def test_a_customer_session_never_reaches_the_console() -> None:
    client = customer_login(make_customer())
    r = client.get("/helpdesk/")
    assert r.status_code == 302
    assert r["Location"].startswith("/helpdesk/login/")
    assert customer_logged_in(client)


def test_an_operator_session_is_not_a_customer_session() -> None:
    client = operator_login(make_operator())
    r = client.get("/top/")
    assert r.status_code == 302
    assert r["Location"].startswith("/")
    assert not r["Location"].startswith("/top")


def test_operator_login_drops_a_customer_login_in_the_same_browser() -> None:
    customer = make_customer()
    client = customer_login(customer)
    operator_login(make_operator(), client)
    assert "customer_id" not in client.session
    assert not customer_logged_in(client)


def test_a_session_carrying_both_principals_is_ended_at_the_console() -> None:
    customer = make_customer()
    client = operator_login(make_operator())
    # A customer login in the same browser (the customer side keeps _auth_* keys).
    customer_login(customer, client)
    r = client.get("/helpdesk/")
    assert r.status_code == 302
    assert r["Location"].startswith("/helpdesk/login/")
    assert "_auth_user_id" not in client.session


def test_create_operator_prints_the_enrolment_once_and_stores_the_seed_sealed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO("Long-enough-pass-1\n"))
    call_command(
        "create_operator", "yamada", "--role", "supervisor", "--password-stdin", stdout=out
    )
    text = out.getvalue()
    assert "otpauth://totp/" in text
    key = text.split("Key (base32): ", 1)[1].split()[0]
    user = User.objects.get(username="yamada")
    credential = OperatorCredential.objects.get(user=user)
    assert key.encode() not in bytes(credential.secret_ciphertext)
    assert base64.b32encode(_unseal(credential)).decode().rstrip("=") == key.rstrip("=")
    client = Client()
    r = post_login(client, "yamada", "Long-enough-pass-1", pyotp.TOTP(key).at(clock.now()))
    assert r.status_code == 302


def test_create_operator_refuses_a_short_password_and_a_missing_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError):
        call_command("create_operator", "kimura", "--role", "operator", "--password-stdin")
    monkeypatch.setattr("sys.stdin", io.StringIO("Long-enough-pass-1\n"))
    with pytest.raises(CommandError):
        call_command("create_operator", "kimura", "--password-stdin")
    assert not User.objects.filter(username="kimura").exists()


def test_create_operator_json_gives_a_script_the_enrolment_and_reads_the_given_stdin() -> None:
    out = io.StringIO()
    call_command(
        "create_operator",
        "sato",
        "--role",
        "operator",
        "--full-name",
        "佐藤 一郎",
        "--password-stdin",
        "--json",
        stdin=io.StringIO("Long-enough-pass-1\n"),
        stdout=out,
    )
    data = json.loads(out.getvalue())
    user = User.objects.get(username="sato")
    credential = OperatorCredential.objects.get(user=user)
    assert data["username"] == "sato"
    assert data["otpauth_uri"].startswith("otpauth://totp/")
    assert data["enrolled_at"] == credential.enrolled_at.isoformat()
    assert base64.b32encode(_unseal(credential)).decode().rstrip("=") == data[
        "secret_base32"
    ].rstrip("=")
    assert user.first_name == "佐藤 一郎"
    clock.advance(30)
    code = pyotp.TOTP(data["secret_base32"]).at(clock.now())
    assert post_login(Client(), "sato", "Long-enough-pass-1", code).status_code == 302

    again = io.StringIO()
    call_command("create_operator", "sato", "--reenrol", "--json", stdout=again)
    renewed = json.loads(again.getvalue())
    assert renewed["secret_base32"] != data["secret_base32"]
    credential.refresh_from_db()
    assert renewed["enrolled_at"] == credential.enrolled_at.isoformat()


def test_reenrol_replaces_the_seed_and_lifts_the_lock() -> None:
    op = make_operator()
    OperatorCredential.objects.filter(user=op.user).update(locked_at=clock.now())
    enrolment = operator_reenrol(username=op.user.username)
    clock.advance(30)
    old_code = op.code()
    assert post_login(Client(), op.user.username, OPERATOR_PASSWORD, old_code).status_code == 400
    new_code = pyotp.TOTP(enrolment.secret_base32).at(clock.now())
    assert post_login(Client(), op.user.username, OPERATOR_PASSWORD, new_code).status_code == 302


def test_a_sealed_seed_copied_onto_another_operator_does_not_open() -> None:
    a = make_operator()
    b = make_operator()
    source = OperatorCredential.objects.get(user=a.user)
    OperatorCredential.objects.filter(user=b.user).update(
        secret_key_id=source.secret_key_id,
        secret_nonce=source.secret_nonce,
        secret_ciphertext=source.secret_ciphertext,
    )
    # b's password with a's code: the copied seed does not open for b.
    r = post_login(Client(), b.user.username, OPERATOR_PASSWORD, a.code())
    assert r.status_code == 400


def test_logout_ends_the_operator_session() -> None:
    client = operator_login(make_operator())
    r = client.post("/helpdesk/logout/")
    assert r["Location"] == "/helpdesk/login/?ended=logout"
    assert client.get("/helpdesk/").status_code == 302


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "someone"},
        {"username": "someone", "password": "x", "code": "12ab56"},
        {"username": "someone", "password": "x", "code": "1" * 9},
        {"username": "x" * 151, "password": "x", "code": "123456"},
        {"username": "someone", "password": "x" * 129, "code": "123456"},
        {"username": "some\x00one", "password": "x", "code": "123456"},
    ],
)
def test_bad_login_input_gets_a_clear_message_and_no_hash(
    data: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with counting_hasher(monkeypatch) as calls:
        r = Client().post("/helpdesk/login/", data)
    assert r.status_code == 400
    assert "入力内容をご確認ください" in r.content.decode()
    assert calls.total == 0
