"""Hash chains: where each record goes, how it links, and that a read-back row verifies."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from netbank import clock
from netbank.audit.chain import (
    ENCODING_END,
    GENESIS,
    SEQ_SEPARATOR,
    canonical_bytes,
    canonical_prefix,
    record_digest,
)
from netbank.audit.models import AuditChainHead, AuditRecord
from netbank.audit.services import Guard, record, record_if, record_on
from netbank.audit.verify import audit_verify
from netbank.customers.models import FailureCounter
from tests.audit.support import customer_trail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_records_of_one_customer_form_a_chain_from_genesis() -> None:
    first, second, third = customer_trail(7, events=3)
    assert [r.chain for r in (first, second, third)] == ["customer:7"] * 3
    assert [r.seq for r in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    head = AuditChainHead.objects.get(chain="customer:7")
    assert (head.seq, head.hash) == (3, third.hash)


def test_operator_action_goes_on_the_operators_chain_not_the_customers() -> None:
    customer_trail(7, events=2)
    by_operator = record("helpdesk.unlock", customer_id=7, operator_id=3, kind="otp")
    assert by_operator.chain == "operator:3"
    assert by_operator.seq == 1
    assert AuditChainHead.objects.get(chain="customer:7").seq == 2


def test_event_without_principal_goes_on_the_system_chain() -> None:
    a = record("login.throttled", ip="203.0.113.5", channel="web", limit=20)
    b = record("activation.throttled", ip="203.0.113.6")
    assert (a.chain, a.seq, b.chain, b.seq) == ("system", 1, "system", 2)


def test_chains_of_different_customers_are_independent() -> None:
    customer_trail(1, events=3)
    other = record("login.succeeded", customer_id=2, ip="192.0.2.1", channel="web")
    assert (other.chain, other.seq, other.prev_hash) == ("customer:2", 1, GENESIS)


def test_hash_is_sha256_over_the_documented_canonical_json() -> None:
    row = record("otp.accepted", customer_id=5, ip="192.0.2.44", channel="web", token_id=9)
    payload = {
        "v": 1,
        "chain": "customer:5",
        "seq": 1,
        "prev_hash": GENESIS,
        "occurred_at": clock.now().isoformat(timespec="microseconds"),
        "event": "otp.accepted",
        "customer_id": 5,
        "operator_id": None,
        "ip": "192.0.2.44",
        "data": {"channel": "web", "token_id": 9},
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert row.hash == hashlib.sha256(encoded.encode()).hexdigest()


def test_rows_read_back_give_their_stored_hash(frozen_clock: datetime) -> None:
    clock.advance(0.123456)  # microseconds must survive the database
    record(
        "login.succeeded",
        customer_id=11,
        ip="2001:DB8:0:0::1",
        channel="web",
        nested={"list": [1, "二", True, None], "empty": {}},
    )
    record("login.succeeded", customer_id=11, ip="::ffff:192.0.2.1", channel="sp")
    record("login.succeeded", customer_id=11, ip=None, channel="direct")
    for row in AuditRecord.objects.filter(customer_id=11):
        assert row.hash == record_digest(
            chain=row.chain,
            seq=row.seq,
            prev_hash=row.prev_hash,
            occurred_at=row.occurred_at,
            event=row.event,
            customer_id=row.customer_id,
            operator_id=row.operator_id,
            ip=row.ip,
            data=row.data,
        ), (connection.vendor, row.ip)
    assert audit_verify(checkpoint_dir=None).kinds() == set()


@pytest.mark.parametrize("seq", [1, 9, 10, 123456789])
def test_the_canonical_prefix_and_the_chain_link_make_the_whole_encoding(seq: int) -> None:
    # PostgreSQL finishes the digest from these parts inside the append statement.
    fields = {
        "chain": "operator:3",
        "occurred_at": clock.now(),
        "event": "helpdesk.unlock",
        "customer_id": 12,
        "operator_id": 3,
        "ip": "2001:db8::7",
        "data": {"kind": "otp", "名前": ["二", None, True], "v": 2, "seq": 0},
    }
    prev = hashlib.sha256(b"previous").hexdigest()
    whole = canonical_bytes(seq=seq, prev_hash=prev, **fields)
    parts = canonical_prefix(**fields) + prev + SEQ_SEPARATOR + str(seq) + ENCODING_END
    assert parts.encode("ascii") == whole


def test_an_append_to_an_existing_chain_is_one_statement_on_postgresql() -> None:
    record("login.succeeded", customer_id=4, ip="192.0.2.1", channel="web")
    with CaptureQueriesContext(connection) as queries:
        second = record("login.succeeded", customer_id=4, ip="192.0.2.1", channel="web")
    expected = 1 if connection.vendor == "postgresql" else 3
    assert len(queries.captured_queries) == expected, queries.captured_queries
    stored = AuditRecord.objects.get(pk=second.pk)
    assert (stored.seq, stored.prev_hash, stored.hash) == (2, second.prev_hash, second.hash)
    assert AuditChainHead.objects.get(chain="customer:4").hash == second.hash


def test_ipv6_is_stored_in_its_canonical_form() -> None:
    row = record("login.succeeded", customer_id=1, ip="2001:DB8:0000:0000:0000:0000:0000:0001")
    assert row.ip == "2001:db8::1"
    row.refresh_from_db()
    assert row.ip == "2001:db8::1"


def test_an_address_that_is_not_one_is_kept_in_data_without_failing_the_event() -> None:
    row = record("login.failed", customer_id=1, ip="http://evil/?t=x", channel="web")
    assert row.ip is None
    assert row.data["ip_unparsed"] == "http:??evil??t?x"


def test_principal_ids_must_be_integers() -> None:
    with pytest.raises(ValueError, match="customer_id"):
        record("x.y", customer_id="7")  # type: ignore[arg-type]
    assert not AuditRecord.objects.exists()


def test_a_failed_append_leaves_neither_record_nor_head() -> None:
    with pytest.raises(ValueError, match="secrets"):
        record("x.y", customer_id=3, password="hunter2")
    assert not AuditRecord.objects.exists()
    assert not AuditChainHead.objects.exists()


def test_intact_trail_verifies() -> None:
    customer_trail(1)
    customer_trail(2)
    record("helpdesk.login", operator_id=1, ip="192.0.2.9")
    record("login.throttled", ip="192.0.2.9")
    report = audit_verify(checkpoint_dir=None)
    assert report.ok, [str(f) for f in report.findings]
    assert (report.records, report.chains) == (12, 4)


@pytest.mark.django_db(transaction=True)
def test_record_on_a_cursor_refuses_to_run_outside_a_transaction() -> None:
    with connection.cursor() as cursor, pytest.raises(RuntimeError, match="transaction"):
        record_on(cursor, "login.succeeded", customer_id=1)
    assert not AuditRecord.objects.exists()


def test_record_on_the_callers_cursor_appends_to_the_same_chain() -> None:
    first = record("login.succeeded", customer_id=8, channel="web")
    with transaction.atomic(), connection.cursor() as cursor:
        second = record_on(cursor, "otp.accepted", customer_id=8, channel="web", token_id=1)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert audit_verify(checkpoint_dir=None).kinds() == set()


def _counter(customer_id: int) -> FailureCounter:
    return FailureCounter.objects.create(
        kind="otp", subject=f"customer:{customer_id}", updated_at=clock.now()
    )


def _bump(counter: FailureCounter, *, below: int) -> Guard:
    """Counts one up, but never to ``below`` or beyond: a conditional update, as the OTP
    check's replay guard is."""
    return Guard(
        'UPDATE "customers_failurecounter" SET "consecutive_failures" = "consecutive_failures" + 1 '
        'WHERE "id" = %(guard_id)s AND "consecutive_failures" < %(guard_below)s RETURNING "id"',
        {"guard_id": counter.pk, "guard_below": below},
    )


def test_a_guarded_record_is_appended_only_when_its_guard_did_its_work() -> None:
    counter = _counter(21)
    record("login.succeeded", customer_id=21, channel="web")
    with transaction.atomic(), connection.cursor() as cursor:
        done = record_if(cursor, _bump(counter, below=1), "otp.accepted", customer_id=21)
        refused = record_if(cursor, _bump(counter, below=1), "otp.accepted", customer_id=21)
    assert done is True
    assert refused is False
    counter.refresh_from_db()
    assert counter.consecutive_failures == 1
    trail = list(AuditRecord.objects.filter(customer_id=21).order_by("seq"))
    assert [(r.event, r.seq) for r in trail] == [("login.succeeded", 1), ("otp.accepted", 2)]
    assert trail[1].prev_hash == trail[0].hash
    assert AuditChainHead.objects.get(chain="customer:21").seq == 2
    assert audit_verify(checkpoint_dir=None).kinds() == set()


def test_a_guarded_first_record_of_a_chain_runs_its_guard_once() -> None:
    counter = _counter(22)
    with transaction.atomic(), connection.cursor() as cursor:
        done = record_if(
            cursor, _bump(counter, below=5), "helpdesk.unlock", customer_id=22, operator_id=77
        )
    assert done is True
    appended = AuditRecord.objects.get(event="helpdesk.unlock")
    assert (appended.chain, appended.seq, appended.prev_hash) == ("operator:77", 1, GENESIS)
    counter.refresh_from_db()
    assert counter.consecutive_failures == 1


def test_a_guard_may_not_reuse_the_appends_parameter_names() -> None:
    counter = _counter(23)
    clash = Guard(
        'UPDATE "customers_failurecounter" SET "updated_at" = "updated_at" '
        'WHERE "id" = %(chain)s RETURNING "id"',
        {"chain": counter.pk},
    )
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        pytest.raises(ValueError, match="chain"),
    ):
        record_if(cursor, clash, "otp.accepted", customer_id=23)
    assert not AuditRecord.objects.exists()
