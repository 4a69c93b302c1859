"""Each delivery outcome is counted once (netbank_mails_total), over a real SMTP server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from netbank import clock
from netbank.notifications import delivery
from netbank.notifications.delivery import deliver_due
from netbank.notifications.services import mail_enqueue
from netbank.ops import metrics
from tests.notifications.conftest import SmtpServer

pytestmark = pytest.mark.django_db

OUTCOMES = metrics.MAIL_OUTCOMES


def _counts() -> dict[str, float]:
    counts = {}
    for outcome in OUTCOMES:
        value = metrics.REGISTRY.get_sample_value("netbank_mails_total", {"outcome": outcome})
        assert value is not None
        counts[outcome] = value
    return counts


def _enqueue(to: str = "phone@example.jp") -> None:
    mail_enqueue(
        to=to,
        subject="【ネットバンク】お知らせ",
        body="本文\n",
        purpose="token_issue",
        from_addr="netbank@otp-auth.example",
    )


def _delta(before: dict[str, float]) -> dict[str, float]:
    return {o: v - before[o] for o, v in _counts().items() if v != before[o]}


@pytest.mark.parametrize(
    ("mode", "outcome"),
    [
        ("accept", "sent"),
        ("tempfail", "retry"),
        ("reject_rcpt", "failed"),
        ("drop_after_data", "uncertain"),
    ],
)
def test_each_outcome_counts_once(
    smtp_server: SmtpServer, frozen_clock: datetime, mode: str, outcome: str
) -> None:
    _enqueue()
    smtp_server.handler.mode = mode
    before = _counts()
    deliver_due()
    assert _delta(before) == {outcome: 1}


def test_an_expired_claim_counts_as_uncertain(
    smtp_server: SmtpServer, settings: Any, frozen_clock: datetime
) -> None:
    _enqueue()
    _enqueue()
    for _ in range(2):  # two workers claim a row each and die
        assert delivery._claim_next(clock.now()) is not None
    before = _counts()
    clock.advance(settings.NETBANK_MAIL_DELIVERY["sending_lease_seconds"] + 1)
    assert deliver_due().expired_claims == 2
    assert _delta(before) == {"uncertain": 2}
