"""No secret of a real run reaches the audit trail or the logs.

One customer goes through the representative flows with known secrets: login with a
wrong and the right password, SLI012 with a 利用開始パスワード and a secret answer, the
app's activation (one wrong password first), Directログイン with its single-use URL, a
web login with a wrong and the right OTP, 振替 with a wrong and the right 確認用パスワード,
振込 to a new payee with a transaction-signing code, and the channel API with its key.
Then every audit record, and every log record of the run, is searched for each secret.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.parse
from datetime import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.banking.models import AccountType, Transfer
from netbank.oath.totp import totp
from netbank.ops.logs import JsonFormatter
from netbank.otp.channels.services import channel_key_create
from netbank.otp.models import Token
from netbank.token_app.client import ActivatedToken, ActivationRefusedError
from netbank.token_app.signing import sign_transaction
from tests.banking.factories import open_account
from tests.otp.test_phone_support import (
    ACTIVATION_PASSWORD,
    ANSWER,
    LOGIN_PASSWORD,
    TRANSACTION_PASSWORD,
    activate,
    apply_data,
    direct_login,
    location,
    make_customer,
    open_url,
    phone_client,
    phone_login,
    post_password,
)

pytestmark = pytest.mark.django_db

WRONG_LOGIN_PASSWORD = "Wrong-login-pass-7"
WRONG_ACTIVATION_PASSWORD = "739105"
WRONG_TRANSACTION_PASSWORD = "Wrong-kakunin-3"


class Secrets:
    """Every secret the run used, by name."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, name: str, value: str) -> str:
        assert value, name
        self.values[f"{name} #{len(self.values)}"] = value
        return value

    def add_key(self, name: str, key: bytes) -> None:
        b32 = base64.b32encode(key).decode()
        self.add(f"{name} (hex)", key.hex())
        self.add(f"{name} (HEX)", key.hex().upper())
        self.add(f"{name} (base32)", b32.rstrip("="))
        self.add(f"{name} (base32, lower)", b32.rstrip("=").lower())
        self.add(f"{name} (base64)", base64.b64encode(key).decode().rstrip("="))


def _code(app: ActivatedToken, offset_steps: int = 0) -> str:
    return totp(
        app.seed,
        clock.timestamp() + offset_steps * app.period,
        period=app.period,
        digits=app.digits,
        algorithm=app.algorithm,
    )


def _wrong_code(app: ActivatedToken) -> str:
    near = {_code(app, d) for d in (-2, -1, 0, 1, 2)}
    return next(
        c for c in (f"{n:0{app.digits}d}" for n in range(13579, 10**6, 7919)) if c not in near
    )


def _run_flows(secrets: Secrets) -> None:
    customer = make_customer()
    for value in (LOGIN_PASSWORD, WRONG_LOGIN_PASSWORD, TRANSACTION_PASSWORD):
        secrets.add("password", value)
    secrets.add("transaction password (wrong)", WRONG_TRANSACTION_PASSWORD)
    secrets.add("secret answer", ANSWER)
    secrets.add("activation password", ACTIVATION_PASSWORD)
    secrets.add("activation password (wrong)", WRONG_ACTIVATION_PASSWORD)
    src = open_account(customer, balance=500_000)
    savings = open_account(customer, account_type=AccountType.SAVINGS)

    # Login with a wrong password, then SLI012 on the phone with the activation password.
    assert post_password(phone_client(), customer, WRONG_LOGIN_PASSWORD).status_code == 400
    phone = phone_client()
    assert location(phone_login(phone, customer)) == "/sp/otp/apply/"
    assert location(phone.post("/sp/otp/apply/", apply_data())) == "/sp/otp/apply/done/"
    token = Token.objects.get(customer=customer, state=Token.State.ISSUED)

    # The app: a wrong activation password first, then the right one.
    with pytest.raises(ActivationRefusedError):
        activate(token, WRONG_ACTIVATION_PASSWORD)
    app = activate(token)
    secrets.add_key("OTP seed", app.seed)
    secrets.add_key("signing key", app.signing_key)

    # Directログイン: the single-use URL, opened in the phone's browser.
    secrets.add("direct-login code", _code(app))
    url = direct_login(app, customer)
    secrets.add("direct-login URL", url)
    tokens = [v for _k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)]
    assert tokens, url
    for value in tokens:
        secrets.add("direct-login URL token", value)
    assert open_url(phone_client(), url).status_code == 303

    # A day later (past the new-token hold): web login with a wrong, then the right OTP.
    clock.advance(25 * 3600)
    web = Client(REMOTE_ADDR="192.0.2.77")
    post_password(web, customer)
    wrong = secrets.add("OTP (wrong)", _wrong_code(app))
    assert web.post(reverse("otp:login_otp"), {"code": wrong}).status_code in (200, 400)
    right = secrets.add("OTP", _code(app))
    assert location(web.post(reverse("otp:login_otp"), {"code": right})) == reverse("customers:top")
    secrets.add("session cookie", web.cookies[settings.SESSION_COOKIE_NAME].value)

    # 振替 with a wrong, then the right 確認用パスワード.
    web.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "30000"},
    )
    key = _idempotency_key(web)
    form = {"idempotency_key": key, "transaction_password": WRONG_TRANSACTION_PASSWORD}
    assert web.post(reverse("banking:transfer_confirm"), form).status_code == 400
    form["transaction_password"] = TRANSACTION_PASSWORD
    assert web.post(reverse("banking:transfer_confirm"), form).status_code == 302

    # 振込 to a new payee, signed by the app over payee and amount.
    web.post(
        reverse("banking:furikomi_input"),
        {
            "from_account": str(src.pk),
            "bank_code": "0005",
            "branch_code": "123",
            "account_type": AccountType.ORDINARY,
            "account_number": "7654321",
            "name_kana": "スズキ ハナコ",
            "amount": "20000",
            "scheduled_for": "",
        },
    )
    html = web.get(reverse("banking:transfer_confirm")).content.decode()
    nonce = re.search(r'class="signing-nonce">(\d{8})<', html)
    assert nonce, html[:2000]
    signing_code = secrets.add(
        "signing code",
        sign_transaction(
            app.signing_key,
            bank_code="0005",
            branch_code="123",
            account_type="1",
            account_number="7654321",
            amount=20_000,
            debit_branch_code=src.branch_code,
            debit_account_number=src.account_number,
            nonce=nonce.group(1),
        ),
    )
    r = web.post(
        reverse("banking:transfer_confirm"),
        {
            "idempotency_key": _idempotency_key(web),
            "transaction_password": TRANSACTION_PASSWORD,
            "signing_code": signing_code,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Transfer.objects.filter(customer=customer, state=Transfer.State.COMPLETED).count() == 2

    # Another channel verifies an OTP with its API key.
    api_key = secrets.add("channel API key", channel_key_create(name="telephone").key)
    clock.advance(app.period)
    answer = Client(REMOTE_ADDR="192.0.2.80").post(
        "/api/v1/verify",
        json.dumps({"user_id": token.user_id, "otp": secrets.add("OTP", _code(app))}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    assert answer.json() == {"result": "accepted"}


def _idempotency_key(client: Client) -> str:
    html = client.get(reverse("banking:transfer_confirm")).content.decode()
    match = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def test_no_secret_of_a_run_reaches_the_audit_trail_or_the_logs(
    frozen_clock: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = Secrets()
    _run_flows(secrets)

    rows = list(AuditRecord.objects.order_by("id").values())
    events = {row["event"] for row in rows}
    # The run really produced the events this test is about.
    for event in (
        "login.failed",
        "token.issued",
        "otp.accepted",
        "otp.rejected",
        "transaction_password.rejected",
        "banking.transfer.completed",
    ):
        assert event in events, (event, sorted(events))
    # Everything but the digests and request ids, which are random-looking hex where a
    # short code could turn up by chance; they are searched for the long secrets below.
    random_hex = [f"{row['prev_hash']} {row['hash']}" for row in rows]
    for row in rows:
        random_hex.append(str(row["data"].pop("request_id", "")))
    trail = json.dumps(
        [{k: v for k, v in row.items() if k not in ("hash", "prev_hash")} for row in rows],
        default=str,
        ensure_ascii=False,
    )
    # The log lines as text and as the JSON lines production writes (LOG_FORMAT=json).
    json_lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    random_hex.extend(str(line.pop("request_id", "")) for line in json_lines)
    digests = " ".join(random_hex)
    logs = (
        caplog.text
        + "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
        + "\n".join(json.dumps(line, ensure_ascii=False) for line in json_lines)
    )
    found = {
        name: where
        for name, value in secrets.values.items()
        for where, text in (("trail", trail), ("logs", logs), ("digests", digests))
        if value in text and (where != "digests" or len(value) >= 16)
    }
    assert found == {}
