"""A scripted journey through the real services and screens, then a scrape of the real
metrics server over HTTP: it shows exactly the counts the journey made, the gauges read
from the database and the checkpoint directory, and no customer's identity in a label."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings

from netbank import clock
from netbank.audit.checkpoints import checkpoint_write
from netbank.banking.business_days import JST
from netbank.banking.models import Account, SigningChallenge, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.signing import signing_challenge
from netbank.banking.transfers import furikomi_order, transfer_execute, transfer_schedule
from netbank.customers.models import Customer
from netbank.notifications.delivery import deliver_due
from netbank.notifications.models import OutboxMail
from netbank.ops import exposition, gauges
from netbank.otp.channels.services import channel_key_create
from netbank.otp.direct_login.services import direct_login_begin, direct_login_open
from netbank.otp.models import Token
from tests.banking.factories import (
    PASSWORD,
    current_otp,
    customer_with_account,
    issue_token,
    login,
    other_bank,
    sign,
)

# Friday 2026-11-27, 10:00 in Japan: a business day.
FRIDAY = datetime.fromisoformat("2026-11-27T01:00:00+00:00")
MONDAY = date(2026, 11, 30)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@contextmanager
def metrics_server(directories: list[Path]) -> Iterator[str]:
    """The metrics server of ``netbank metrics-server``, on a free loopback port."""
    server = exposition.server("127.0.0.1:0", directories)

    def run() -> None:
        try:
            server.serve_forever()
        finally:
            connections.close_all()  # the gauges' connection, made in this thread

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def scrape(url: str) -> tuple[Samples, str]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:  # noqa: S310
        assert response.status == 200
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def _api_verify(key: str, login_id: str, code: str) -> str:
    response = Client().generic(
        "POST",
        "/api/v1/verify",
        json.dumps({"login_id": login_id, "otp": code}).encode(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 200, response.content
    return str(json.loads(response.content)["result"])


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def _signed_furikomi(customer: Customer, src: Account, signing_key: bytes) -> Transfer:
    order = furikomi_order(
        customer=customer,
        from_account_id=src.pk,
        amount=20_000,
        destination=other_bank("1111111"),
    )
    challenge = signing_challenge(
        customer=customer,
        purpose=SigningChallenge.Purpose.TRANSFER,
        destination=order.destination,
        amount=order.amount,
        debit_account=src,
        scheduled_for=None,
    )
    return transfer_execute(
        customer=customer,
        order=order,
        idempotency_key=secrets.token_urlsafe(32),
        challenge_id=challenge.pk,
        signing_code=sign(challenge, signing_key),
    ).transfer


@pytest.fixture
def pinned_friday() -> Iterator[datetime]:
    clock.set_now(FRIDAY)
    try:
        yield FRIDAY
    finally:
        clock.set_now(None)


@pytest.mark.django_db(transaction=True)
def test_the_metrics_server_shows_what_a_journey_did(
    multiprocess_dir: Path, pinned_friday: datetime, settings: Settings, tmp_path: Path
) -> None:
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    customer, src = customer_with_account(500_000)
    token, signing_key = issue_token(customer)

    # Login with the password and the OTP, through the screens.
    login(customer, token)
    # Two failed logins: a wrong password, and an ID nobody has.
    for login_id, password in (
        (customer.login_id, "wrong-password"),
        ("nosuch9999", "wrong-password"),
    ):
        r = Client().post(reverse("customers:login"), {"login_id": login_id, "password": password})
        assert r.status_code == 400  # refused, with the one message for both
    # The verification API, one step later (the login used this step's code).
    clock.advance(30)
    key = channel_key_create(name="telephone").key
    assert _api_verify(key, customer.login_id, current_otp(token)) == "accepted"
    # A 振込 to a new payee, signed with 取引認証.
    assert _signed_furikomi(customer, src, signing_key).state == Transfer.State.COMPLETED
    # A 振込予約 for Monday to a registered payee (small: no signing).
    payee_seed(customer=customer, destination=other_bank("2222222"))
    order = furikomi_order(
        customer=customer,
        from_account_id=src.pk,
        amount=1_000,
        destination=other_bank("2222222"),
        scheduled_for=MONDAY,
    )
    transfer_schedule(customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32))
    # Directログイン: the URL issued by the app's login, then used.
    clock.advance(30)
    begun = direct_login_begin(
        service_id="100001",
        user_id=token.user_id,
        login_id=customer.login_id,
        password=PASSWORD,
        code=current_otp(token),
        ip=None,
    )
    assert begun.ticket
    assert direct_login_open(ticket=begun.ticket, ip=None) == customer
    # Another customer's OTP locks after five wrong codes through the API.
    other, _ = customer_with_account(0)
    other_token, _ = issue_token(other)
    wrong = _wrong(current_otp(other_token))
    answers = [_api_verify(key, other.login_id, wrong) for _ in range(5)]
    assert answers == ["rejected"] * 4 + ["locked"]

    # Monday 09:30 in Japan: the 振込予約 is due and has not run; a checkpoint is two
    # minutes old.
    clock.set_now(datetime(2026, 11, 30, 9, 30, tzinfo=JST))
    checkpoint_write()
    clock.advance(120)
    # Another process of the node (a second granian worker) records into the directory.
    subprocess.run(
        [sys.executable, "-c", "from netbank.ops import metrics; metrics.mail('uncertain')"],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiprocess_dir)},
        check=True,
        timeout=60,
    )

    # Readiness as the node sees it now (netbank.ops.health, where the bank has it).
    ready = gauges.readiness()
    with metrics_server([multiprocess_dir]) as url:
        samples, text = scrape(url)
        pending = OutboxMail.objects.filter(status=OutboxMail.Status.PENDING).count()
        assert pending > 0  # the login, transfer and lock notices
        report = deliver_due(batch_size=100)
        assert report.sent == pending
        after_delivery, _ = scrape(url)

    expected = {
        ("netbank_login_password_checks_total", "web", "accepted"): 1,
        ("netbank_login_password_checks_total", "web", "wrong_password"): 1,
        ("netbank_login_password_checks_total", "web", "unknown_id"): 1,
        ("netbank_login_password_checks_total", "direct", "accepted"): 1,
    }
    for (name, channel, outcome), count in expected.items():
        assert value(samples, name, channel=channel, outcome=outcome) == count
    assert (
        sum(v for (n, _), v in samples.items() if n == "netbank_login_password_checks_total") == 4
    )
    assert value(samples, "netbank_logins_total", channel="web") == 1
    credential = {
        ("otp", "accepted"): 3,  # the login, the API call, the Direct login
        ("otp", "rejected"): 4,
        ("otp", "locked"): 1,
        ("txauth", "accepted"): 1,
    }
    for (kind, outcome), count in credential.items():
        assert (
            value(samples, "netbank_credential_checks_total", kind=kind, outcome=outcome) == count
        )
    assert sum(v for (n, _), v in samples.items() if n == "netbank_credential_checks_total") == 9
    assert value(samples, "netbank_otp_verification_seconds_count") == 8
    assert value(samples, "netbank_otp_verification_seconds_bucket", le="+Inf") == 8
    assert value(samples, "netbank_lockouts_total", kind="otp") == 1
    assert sum(v for (n, _), v in samples.items() if n == "netbank_lockouts_total") == 1
    assert value(samples, "netbank_transfers_total", kind="furikomi", outcome="completed") == 1
    assert value(samples, "netbank_transfers_total", kind="furikomi", outcome="scheduled") == 1
    assert value(samples, "netbank_direct_login_urls_total", event="issued") == 1
    assert value(samples, "netbank_direct_login_urls_total", event="used") == 1
    # Both processes' files are added up.
    assert value(samples, "netbank_mails_total", outcome="uncertain") == 1
    assert value(samples, "netbank_mails_total", outcome="sent") == 0

    # The gauges, read from the database and the checkpoint directory at scrape time.
    assert value(samples, "netbank_outbox_mails", state="pending") == pending
    assert value(samples, "netbank_outbox_mails", state="uncertain") == 0
    assert value(samples, "netbank_scheduled_transfer_lag_seconds") == (9 * 3600 + 32 * 60)
    assert value(samples, "netbank_audit_checkpoint_age_seconds") == 120
    ready_samples = {dict(k[1])["check"]: v for k, v in samples.items() if k[0] == "netbank_ready"}
    assert ready_samples == ({} if ready is None else {c: float(ok) for c, ok in ready.items()})

    assert value(after_delivery, "netbank_mails_total", outcome="sent") == pending
    assert value(after_delivery, "netbank_outbox_mails", state="pending") == 0

    # No label value is anything that names a customer.
    identities = (
        {
            str(v)
            for c in (customer, other)
            for v in (c.pk, c.login_id, c.email, c.name_kanji, c.name_kana)
        }
        | {t.user_id for t in Token.objects.all()}
        | {"nosuch9999"}
    )
    labels = {v for (_, pairs) in samples for _, v in pairs}
    assert labels.isdisjoint(identities)
    for identity in identities:
        assert f'"{identity}"' not in text


@pytest.mark.django_db(transaction=True)
def test_the_metrics_server_answers_only_get_metrics(multiprocess_dir: Path) -> None:
    with metrics_server([multiprocess_dir]) as url:
        for path, method, status in (("/", "GET", 404), ("/metrics", "POST", 405)):
            request = urllib.request.Request(f"{url}{path}", method=method, data=b"")  # noqa: S310
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(request, timeout=10)  # noqa: S310
            assert error.value.code == status
            error.value.close()


@pytest.mark.django_db(transaction=True)
def test_the_gauges_say_plainly_when_nothing_waits(
    multiprocess_dir: Path, settings: Settings, tmp_path: Path
) -> None:
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(tmp_path / "none-yet")
    with metrics_server([multiprocess_dir, tmp_path / "absent"]) as url:
        samples, _ = scrape(url)
    assert value(samples, "netbank_scheduled_transfer_lag_seconds") == 0
    assert value(samples, "netbank_outbox_oldest_due_seconds") == 0
    # No checkpoint yet is as bad as a very old one: the alert fires.
    assert value(samples, "netbank_audit_checkpoint_age_seconds") == float("inf")
    assert value(samples, "netbank_mails_total", outcome="sent") == 0
