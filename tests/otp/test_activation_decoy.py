"""Round one of activation tells nobody whether a ユーザID is a pending issue.

docs/protocols.md §1.3: the answer for an unknown ID (or one that cannot be activated)
must look like the answer for a real pending issue in every field, over repeated calls,
and must cost the bank the same work. Each test puts a pending issue (issued hours ago,
so its own 24 hours are part spent) beside IDs that are not.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.oath import activation as proto
from netbank.otp import crypto
from netbank.otp.activation import services as activation
from netbank.otp.models import Token
from tests.otp.factories import ACTIVATION_PASSWORD, in_use_token, issue_token

pytestmark = pytest.mark.django_db
START = "/api/v1/activation/start"
SERVICE_ID = "100001"
UNKNOWN = "123456789012"
BINARY_FIELDS = (
    "transcript_id",
    "app_public_key",
    "server_public_key",
    "signature",
)

_addresses = iter(range(1, 10**6))


def _start(user_id: str, *, service_id: str = SERVICE_ID) -> dict[str, Any]:
    _, public = proto.x25519_generate()
    # A fresh address per call: the per-address throttle is not what is compared here.
    n = next(_addresses)
    response = Client(REMOTE_ADDR=f"198.51.{n // 250 % 250}.{n % 250 + 1}").post(
        START,
        {
            "service_id": service_id,
            "user_id": user_id,
            "app_public_key": proto.b64url_encode(public),
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert isinstance(answer, dict)
    return answer


def _shape(answer: dict[str, Any]) -> dict[str, object]:
    """What an observer can compare without knowing any key: names, types, lengths,
    the bank's parameters and the validity the answer claims."""
    return {
        "fields": sorted(answer),
        "types": {name: type(value).__name__ for name, value in answer.items()},
        "lengths": {name: len(answer[name]) for name in BINARY_FIELDS},
        "protocol": answer["protocol"],
        "parameters": (answer["algorithm"], answer["digits"], answer["period"]),
        "valid_for": answer["expires_at"] - answer["server_time"],
        "server_time": answer["server_time"] - int(clock.now().timestamp()),
    }


@pytest.fixture
def pending(frozen_clock: datetime) -> Token:
    """A pending issue, issued five hours ago: 19 of its 24 hours are left."""
    issued = clock.now() - timedelta(hours=5)
    return issue_token(created_at=issued, expires_at=issued + timedelta(hours=24))


@pytest.fixture
def others(pending: Token) -> dict[str, tuple[str, str]]:
    """(service_id, user_id) of round ones that must answer like ``pending``."""
    return {
        "unknown": (SERVICE_ID, UNKNOWN),
        "other_bank": ("999999", pending.user_id),
        "in_use": (SERVICE_ID, in_use_token().user_id),
    }


def test_every_field_looks_alike_over_repeated_calls(
    pending: Token, others: dict[str, tuple[str, str]]
) -> None:
    shapes: dict[str, list[dict[str, object]]] = {"pending": []} | {name: [] for name in others}
    expiries: dict[str, set[int]] = {name: set() for name in shapes}
    for _ in range(4):
        answer = _start(pending.user_id)
        shapes["pending"].append(_shape(answer))
        expiries["pending"].add(answer["expires_at"])
        for name, (service_id, user_id) in others.items():
            answer = _start(user_id, service_id=service_id)
            shapes[name].append(_shape(answer))
            expiries[name].add(answer["expires_at"])
        clock.advance(37)
    for name in others:
        assert shapes[name] == shapes["pending"], name
        # expires_at moves (or stays) the same way across calls for every ID.
        assert len(expiries[name]) == len(expiries["pending"]), name


def test_fresh_values_differ_on_every_call_alike(
    pending: Token, others: dict[str, tuple[str, str]]
) -> None:
    """The random parts are fresh for every call on both paths: none repeats."""
    for service_id, user_id in [(SERVICE_ID, pending.user_id), *others.values()]:
        answers = [_start(user_id, service_id=service_id) for _ in range(3)]
        for name in ("transcript_id", "server_public_key", "signature"):
            assert len({a[name] for a in answers}) == 3, (user_id, name)


_SAVEPOINT_END = {"RELEASE": "end savepoint", "ROLLBACK": "end savepoint"}


class _Counts:
    """Counts calls of the bank's crypto and of audit appends, passing them through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[str, int] = {}
        for owner, name in [
            (proto, "x25519_generate"),
            (proto, "sign_transcript"),
            (crypto, "seal"),
            (activation, "record"),
        ]:
            monkeypatch.setattr(owner, name, self._counting(name, getattr(owner, name)))

    def _counting(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return real(*args, **kwargs)

        return counted

    @contextmanager
    def during(self) -> Iterator[dict[str, int]]:
        self.calls = {}
        yield self.calls


def test_both_paths_do_the_same_crypto_sql_and_commit_a_write(
    pending: Token, others: dict[str, tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = _Counts(monkeypatch)
    # The app's own key generation in _start is counted too, the same on every path.
    seen: dict[str, dict[str, int]] = {}
    paths = {"pending": (SERVICE_ID, pending.user_id), **others}
    for service_id, user_id in paths.values():
        _start(user_id, service_id=service_id)  # each audit chain has its head row now
    for name, (service_id, user_id) in paths.items():
        records = AuditRecord.objects.count()
        with counts.during() as calls, CaptureQueriesContext(connection) as queries:
            _start(user_id, service_id=service_id)
        # A savepoint ends in RELEASE on one path and ROLLBACK TO on the other: both end one.
        statements = Counter(
            _SAVEPOINT_END.get(verb, verb)
            for verb in (q["sql"].split()[0].upper() for q in queries.captured_queries)
        )
        seen[name] = dict(calls) | {f"sql {verb}": n for verb, n in statements.items()}
        # Every round one appends one audit record: a durable write, as the real one makes.
        assert AuditRecord.objects.count() == records + 1, name
    assert {k: v for k, v in seen["pending"].items() if not k.startswith("sql")} == {
        "x25519_generate": 2,  # the app's and the bank's
        "seal": 1,
        "sign_transcript": 1,
        "record": 1,
    }
    assert seen["pending"]["sql INSERT"] >= 2  # the session row and the audit record
    for name in others:
        assert seen[name] == seen["pending"], name


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def test_timing_alike(pending: Token, others: dict[str, tuple[str, str]]) -> None:
    """Medians over interleaved calls, with a generous bound (shared CI machines)."""
    paths = {"pending": (SERVICE_ID, pending.user_id), **others}
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(3):  # warm up
        for service_id, user_id in paths.values():
            _start(user_id, service_id=service_id)
    for _ in range(25):
        for name, (service_id, user_id) in paths.items():
            began = time.perf_counter()
            _start(user_id, service_id=service_id)
            samples[name].append(time.perf_counter() - began)
    real = _median_ms(samples["pending"])
    for name in others:
        other = _median_ms(samples[name])
        assert 0.6 < other / real < 1.6, (name, round(other, 3), round(real, 3))


def _round_two(token: Token, *, late_by: int) -> bool:
    """Round one, then round two ``late_by`` seconds after the answer's expires_at."""
    private, public = proto.x25519_generate()
    answer = activation.activation_start(
        service_id=SERVICE_ID, user_id=token.user_id, app_public_key=public, ip=None
    )
    transcript, _ = proto.Transcript.from_json(answer)
    keys = proto.derive_keys(
        proto.x25519_shared_secret(private, transcript.server_public_key), transcript
    )
    proof = proto.client_proof(keys.confirmation_key, transcript, ACTIVATION_PASSWORD.encode())
    clock.set_now(datetime.fromtimestamp(transcript.expires_at + late_by, tz=UTC))
    try:
        activation.activation_finish(
            transcript_id=proto.b64url_encode(transcript.transcript_id), proof=proof, ip=None
        )
    except activation.ActivationFailedError:
        return False
    return True


@pytest.mark.parametrize(("late_by", "accepted"), [(-1, True), (0, False)])
def test_round_two_is_accepted_until_the_answers_expires_at(
    pending: Token, late_by: int, accepted: bool
) -> None:
    """expires_at is true: the bank finishes this answer until then, not after."""
    assert _round_two(pending, late_by=late_by) is accepted
    pending.refresh_from_db()
    assert (pending.state == Token.State.ACTIVATED) is accepted
    assert pending.activation_failures == 0  # too late is no guess


def test_an_issue_ending_sooner_still_ends_first(frozen_clock: datetime) -> None:
    """An issue with less than ANSWER_SECONDS left is not stretched by its answer."""
    token = issue_token(expires_at=clock.now() + timedelta(seconds=60))
    assert _round_two(token, late_by=60 - activation.ANSWER_SECONDS) is False
    token.refresh_from_db()
    assert token.state == Token.State.EXPIRED


def test_the_bank_sees_why_a_round_one_was_a_decoy(
    pending: Token, others: dict[str, tuple[str, str]]
) -> None:
    """The reason is in the audit trail only (like an unknown login ID), never in the answer."""
    for service_id, user_id in others.values():
        _start(user_id, service_id=service_id)
    refused = AuditRecord.objects.filter(event="activation.start_refused").order_by("pk")
    assert [(r.data["user_id"], r.data["reason"]) for r in refused] == [
        (UNKNOWN, "unknown_user_id"),
        (pending.user_id, "other_service_id"),
        (others["in_use"][1], "not_activatable_in_use_app"),
    ]
    _start(pending.user_id)
    assert AuditRecord.objects.filter(event="activation.started").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_committed_decoy_leaves_no_session_and_no_foreign_key_error() -> None:
    """The decoy's session row names no token; it is rolled back before the commit
    that would check its foreign key, and the audit record is what stays."""
    for _ in range(2):
        _, public = proto.x25519_generate()
        activation.activation_start(
            service_id=SERVICE_ID, user_id=UNKNOWN, app_public_key=public, ip=None
        )
    assert not activation.ActivationSession.objects.exists()
    assert AuditRecord.objects.filter(event="activation.start_refused").count() == 2
