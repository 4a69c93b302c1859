"""Demo data: customers, accounts, demo0002's OTP and the helpdesk operators, made once
through the apps' own services however often the demo starts."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from datetime import datetime
from pathlib import Path

import pyotp
import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.test import Client

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.models import Account, Payee
from netbank.customers.models import Customer, SecretQuestion
from netbank.customers.validators import normalize_answer
from netbank.demo.seed import (
    CREDENTIALS_FILE,
    DEMO_CUSTOMERS,
    DEMO_OPERATORS,
    SEEDERS,
    credentials_path,
    customer_key,
    operator_key,
    seed_all,
    seed_customers,
)
from netbank.helpdesk.models import OperatorCredential
from netbank.helpdesk.operators import ROLE_GROUPS, operator_login_check, operator_role
from netbank.notifications.models import OutboxMail
from netbank.oath import parse_uri
from netbank.otp.models import Token
from tests.otp.factories import in_use_token

pytestmark = pytest.mark.django_db

TARO, HANAKO = DEMO_CUSTOMERS  # demo0001 without OTP, demo0002 with it


def _snapshot() -> list[tuple[object, ...]]:
    customers = Customer.objects.order_by("pk").values_list(
        "pk", "login_id", "password_hash", "transaction_password_hash", "email", "status"
    )
    questions = SecretQuestion.objects.order_by("pk").values_list(
        "pk", "customer_id", "position", "question", "answer_hash"
    )
    tokens = Token.objects.order_by("pk").values_list("pk", "user_id", "state", "last_step")
    accounts = Account.objects.order_by("pk").values_list("pk", "account_number", "balance")
    payees = Payee.objects.order_by("pk").values_list("pk", "customer_id", "account_number")
    operators = User.objects.order_by("pk").values_list("pk", "username", "password")
    credentials = OperatorCredential.objects.order_by("pk").values_list(
        "pk", "secret_ciphertext", "enrolled_at"
    )
    counts = [(AuditRecord.objects.count(), OutboxMail.objects.count())]
    return [
        *customers,
        *questions,
        *tokens,
        *accounts,
        *payees,
        *operators,
        *credentials,
        *counts,
    ]


def _log_in(client: Client, login_id: str, password: str) -> str:
    """Step 1 (ID + password); returns where the bank sends the browser next."""
    response = client.post("/", {"login_id": login_id, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


def test_seed_is_idempotent(frozen_clock: datetime) -> None:
    first_notes = seed_all()
    first = _snapshot()
    first_file = credentials_path().read_text("utf-8")
    clock.advance(3600)

    second_notes = seed_all()

    assert _snapshot() == first
    assert credentials_path().read_text("utf-8") == first_file
    assert first_notes != []
    assert second_notes == []
    assert Customer.objects.count() == len(DEMO_CUSTOMERS)
    assert User.objects.count() == len(DEMO_OPERATORS)


def test_seed_creates_only_the_missing_customers() -> None:
    seed_customers()
    Customer.objects.filter(login_id=HANAKO.login_id).delete()
    kept = Customer.objects.get(login_id=TARO.login_id)

    notes = seed_customers()

    assert notes == [f"顧客を作成しました / customers created: {HANAKO.login_id}"]
    assert Customer.objects.get(login_id=TARO.login_id).pk == kept.pk
    assert Customer.objects.count() == len(DEMO_CUSTOMERS)


def test_customer_seeder_is_first_so_later_seeders_find_the_customers() -> None:
    assert SEEDERS[0] is seed_customers


def test_demo_customers_have_what_the_leaflet_flows_need() -> None:
    seed_all()
    assert len(DEMO_CUSTOMERS) >= 2
    for demo in DEMO_CUSTOMERS:
        customer = Customer.objects.get(login_id=demo.login_id)
        assert customer.name_kanji == demo.name_kanji
        assert customer.name_kana == demo.name_kana
        assert customer.email.endswith("@example.jp")
        assert check_password(demo.password, customer.password_hash)
        assert check_password(demo.transaction_password, customer.transaction_password_hash)
        questions = list(customer.questions.order_by("position"))
        assert 2 <= len(questions) <= 3
        for stored, (question, answer) in zip(questions, demo.questions, strict=True):
            assert stored.question == question
            assert check_password(normalize_answer(answer), stored.answer_hash)


def test_every_demo_customer_gets_accounts_with_history_and_payees() -> None:
    seed_all()
    for demo in DEMO_CUSTOMERS:
        accounts = Account.objects.filter(customer__login_id=demo.login_id)
        assert {a.account_type for a in accounts} == {"ordinary", "savings"}
        assert all(a.balance > 0 for a in accounts)
        assert Payee.objects.filter(customer__login_id=demo.login_id).count() == 2


def test_demo0001_has_no_token_and_logs_in_with_id_and_password_only() -> None:
    seed_all()
    client = Client()

    response = client.post("/", {"login_id": TARO.login_id, "password": TARO.password}, follow=True)

    assert not Token.objects.filter(customer__login_id=TARO.login_id).exists()
    assert response.status_code == 200
    assert TARO.name_kanji in response.content.decode()


def test_demo0002_login_asks_for_the_otp_and_the_printed_key_passes_it(
    frozen_clock: datetime,
) -> None:
    seed_all()
    token = Token.objects.get(customer__login_id=HANAKO.login_id)
    assert token.state == Token.State.IN_USE
    assert token.kind == Token.Kind.AUTHENTICATOR
    key = customer_key(HANAKO.login_id)
    assert key is not None
    assert key.bound_to == token.user_id
    # The URI an authenticator app scans carries the same key, and no login ID.
    parsed = parse_uri(key.otpauth_uri)
    assert pyotp.TOTP(key.secret_base32).secret == key.secret_base32
    assert parsed.account == token.user_id
    assert HANAKO.login_id not in key.otpauth_uri
    clock.advance(30)  # the seed's own confirmation used this step
    client = Client()

    assert _log_in(client, HANAKO.login_id, HANAKO.password) == "/login/otp/"
    # Not logged in before the OTP.
    assert client.get("/top/").status_code == 302
    wrong = client.post("/login/otp/", {"code": "000000"})
    assert wrong.status_code == 400
    code = pyotp.TOTP(key.secret_base32).at(clock.now())
    response = client.post("/login/otp/", {"code": code}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/top/"
    assert HANAKO.name_kanji in response.content.decode()


@pytest.mark.skipif(shutil.which("oathtool") is None, reason="Debian's oathtool not installed")
def test_the_printed_oathtool_hint_gives_the_banks_code(frozen_clock: datetime) -> None:
    seed_all()
    key = customer_key(HANAKO.login_id)
    assert key is not None
    clock.advance(30)
    now = clock.now()

    result = subprocess.run(
        [
            "oathtool",
            "--totp",
            "-b",
            key.secret_base32,
            "--now",
            now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    client = Client()
    _log_in(client, HANAKO.login_id, HANAKO.password)
    response = client.post("/login/otp/", {"code": result.stdout.strip()})

    assert response.status_code == 302
    assert response["Location"] == "/top/"


def test_demo0002_otp_goes_through_the_customers_own_checks_and_is_audited() -> None:
    seed_all()
    customer = Customer.objects.get(login_id=HANAKO.login_id)
    events = list(
        AuditRecord.objects.filter(customer_id=customer.pk)
        .order_by("pk")
        .values_list("event", flat=True)
    )

    for event in ("secret_answer.accepted", "token.issued", "otp.accepted", "token.in_use"):
        assert event in events
    assert events.index("token.issued") < events.index("token.in_use")
    # The customer's mailbox gets the notices the bank sends on every issue and start.
    purposes = set(
        OutboxMail.objects.filter(to_addr=customer.email).values_list("purpose", flat=True)
    )
    assert len(purposes) >= 2


def test_the_key_file_is_owner_only_and_holds_only_the_demos_keys(demo_data_dir: Path) -> None:
    seed_all()
    path = demo_data_dir / CREDENTIALS_FILE

    assert path == credentials_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text("utf-8"))
    assert set(data["customers"]) == {HANAKO.login_id}
    assert set(data["operators"]) == {op.username for op in DEMO_OPERATORS}


def test_a_lost_key_file_replaces_the_keys_through_the_services(frozen_clock: datetime) -> None:
    seed_all()
    old_key = customer_key(HANAKO.login_id)
    old_token = Token.objects.get(customer__login_id=HANAKO.login_id)
    old_operator = operator_key(DEMO_OPERATORS[0].username)
    assert old_key is not None
    assert old_operator is not None
    credentials_path().unlink()
    clock.advance(60)

    notes = seed_all()

    new_key = customer_key(HANAKO.login_id)
    assert new_key is not None
    assert new_key.secret_base32 != old_key.secret_base32
    old_token.refresh_from_db()
    assert old_token.state == Token.State.REVOKED
    assert Token.objects.get(customer__login_id=HANAKO.login_id, state="in_use").user_id == (
        new_key.bound_to
    )
    new_operator = operator_key(DEMO_OPERATORS[0].username)
    assert new_operator is not None
    assert new_operator.secret_base32 != old_operator.secret_base32
    assert any("re-enrolled" in note for note in notes)
    # The old operator key no longer opens the console; the new one does.
    clock.advance(30)
    demo = DEMO_OPERATORS[0]
    old_code = pyotp.TOTP(old_operator.secret_base32).at(clock.now())
    assert (
        operator_login_check(
            username=demo.username, password=demo.password, code=old_code, ip="127.0.0.1"
        ).user
        is None
    )
    new_code = pyotp.TOTP(new_operator.secret_base32).at(clock.now())
    assert (
        operator_login_check(
            username=demo.username, password=demo.password, code=new_code, ip="127.0.0.1"
        ).user
        is not None
    )


def test_a_damaged_key_file_counts_as_lost(frozen_clock: datetime) -> None:
    seed_all()
    credentials_path().write_text("{not json", "utf-8")

    seed_all()

    assert customer_key(HANAKO.login_id) is not None
    assert all(operator_key(op.username) is not None for op in DEMO_OPERATORS)
    assert Token.objects.filter(customer__login_id=HANAKO.login_id, state="in_use").count() == 1


def test_a_suspended_demo0002_is_left_alone(frozen_clock: datetime) -> None:
    seed_customers()
    Customer.objects.filter(login_id=HANAKO.login_id).update(status=Customer.Status.SUSPENDED)

    notes = seed_all()

    assert not Token.objects.filter(customer__login_id=HANAKO.login_id).exists()
    assert not any(HANAKO.login_id in note and "OTP in use" in note for note in notes)


def test_demo_otp_is_skipped_with_a_reason_when_the_bank_allows_no_authenticator_apps(
    settings: object,
) -> None:
    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "allow_authenticator_apps": False}  # type: ignore[attr-defined]

    notes = seed_all()

    assert not Token.objects.exists()
    assert any("NETBANK_OTP_ALLOW_AUTHENTICATOR_APPS" in note for note in notes)
    assert customer_key(HANAKO.login_id) is None


def test_operator_and_supervisor_have_their_roles_and_log_in_with_the_printed_key(
    frozen_clock: datetime,
) -> None:
    seed_all()
    assert {op.role for op in DEMO_OPERATORS} == set(ROLE_GROUPS)
    clock.advance(30)
    for demo in DEMO_OPERATORS:
        user = User.objects.get(username=demo.username)
        assert operator_role(user) == demo.role
        assert not user.is_staff
        assert not user.is_superuser
        key = operator_key(demo.username)
        assert key is not None
        assert parse_uri(key.otpauth_uri).account == demo.username
        client = Client()
        code = pyotp.TOTP(key.secret_base32).at(clock.now())

        response = client.post(
            "/helpdesk/login/",
            {"username": demo.username, "password": demo.password, "code": code},
        )

        assert response.status_code == 302
        assert response["Location"] == "/helpdesk/"
        home = client.get("/helpdesk/")
        assert home.status_code == 200


def test_operator_with_a_wrong_code_stays_out(frozen_clock: datetime) -> None:
    seed_all()
    demo = DEMO_OPERATORS[0]
    key = operator_key(demo.username)
    assert key is not None
    clock.advance(30)
    client = Client()
    code = pyotp.TOTP(key.secret_base32).at(clock.now())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    response = client.post(
        "/helpdesk/login/", {"username": demo.username, "password": demo.password, "code": wrong}
    )

    assert response.status_code == 400
    assert client.get("/helpdesk/").status_code == 302


def test_a_visitors_token_app_for_demo0002_survives_the_next_start(frozen_clock: datetime) -> None:
    seed_all()
    customer = Customer.objects.get(login_id=HANAKO.login_id)
    # The visitor re-issued and started the token app: the demo's token is revoked.
    Token.objects.filter(customer=customer).update(state=Token.State.REVOKED)
    app_token = in_use_token(customer)
    assert app_token.kind == Token.Kind.APP

    notes = seed_all()

    assert notes == []
    assert list(Token.objects.filter(customer=customer, state="in_use")) == [app_token]
    assert customer_key(HANAKO.login_id) is None


def test_a_newcomers_first_code_right_after_the_seed_is_accepted(frozen_clock: datetime) -> None:
    # The README: start the demo, then `oathtool --totp -b KEY` for demo0002 at once. The
    # seed's own 利用開始 must not have used up the step the newcomer's code is in.
    seed_all()
    key = customer_key(HANAKO.login_id)
    assert key is not None
    client = Client()
    assert _log_in(client, HANAKO.login_id, HANAKO.password) == "/login/otp/"
    code = pyotp.TOTP(key.secret_base32).at(clock.now())
    response = client.post("/login/otp/", {"code": code})
    assert response.status_code == 302
    assert response["Location"] == "/top/"
    # The code cannot be replayed.
    again = Client()
    _log_in(again, HANAKO.login_id, HANAKO.password)
    assert again.post("/login/otp/", {"code": code}).status_code == 400
