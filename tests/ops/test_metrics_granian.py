"""The verification API under granian with two worker processes (PostgreSQL): each worker
writes its own multiprocess file, and the metrics server's total is every call made."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbank.otp.channels.services import channel_key_create
from tests.banking.factories import current_otp, customer_with_account, issue_token
from tests.granian import answers, database_env, serving
from tests.ops.test_metrics_journey import metrics_server, scrape, value

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _verify(base: str, key: str, login_id: str, code: str) -> str:
    request = urllib.request.Request(  # noqa: S310
        f"{base}/api/v1/verify",
        data=json.dumps({"login_id": login_id, "otp": code}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.loads(response.read())["result"])


@pytest.fixture
def granian_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The API stack under granian (two workers) on this test database, recording into a
    multiprocess directory of its own."""
    directory = tmp_path / "prometheus-api"
    directory.mkdir()

    def ready(base: str) -> bool:
        # Both workers have loaded the app (each makes its file at import), and it answers.
        return len(list(directory.glob("counter_*.db"))) >= 2 and answers(base, "/api/v1/verify")

    env = database_env(PROMETHEUS_MULTIPROC_DIR=str(directory))
    with serving(
        "netbank.config.wsgi_api:application",
        tmp_path / "granian.log",
        workers=2,
        env=env,
        ready=ready,
    ) as base:
        yield base, directory


def test_every_worker_s_calls_are_in_the_total(granian_api: tuple[str, Path]) -> None:
    base, directory = granian_api
    key = channel_key_create(name="telephone").key
    customers = [customer_with_account(0)[0] for _ in range(3)]
    tokens = [issue_token(customer)[0] for customer in customers]
    wrong = [f"{(int(current_otp(t)) + 1) % 10**6:06d}" for t in tokens]
    answers = [
        _verify(base, key, customer.login_id, code)
        for _ in range(2)
        for customer, code in zip(customers, wrong, strict=True)
    ]
    assert answers == ["rejected"] * 6
    assert _verify(base, key, customers[0].login_id, current_otp(tokens[0])) == "accepted"

    with metrics_server([directory]) as url:
        samples, _ = scrape(url)
    assert value(samples, "netbank_credential_checks_total", kind="otp", outcome="rejected") == 6
    assert value(samples, "netbank_credential_checks_total", kind="otp", outcome="accepted") == 1
    assert value(samples, "netbank_otp_verification_seconds_count") == 7
    assert len(list(directory.glob("counter_*.db"))) == 2
