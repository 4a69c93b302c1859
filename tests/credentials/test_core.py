"""The credential core's order of steps, with a minimal kind of credential (a list of
single-use codes kept in memory): what a new kind has to give, and what it gets."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import connection

from netbank.credentials import Verdict, credential_check
from netbank.ops import metrics


@dataclass
class Counter:
    failures: int = 0
    limit: int = 3
    journal: list[str] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return self.failures >= self.limit

    def reset(self) -> None:
        self.journal.append("reset")
        self.failures = 0

    def count_failure(self) -> bool:
        self.journal.append("count")
        self.failures += 1
        return self.locked


@dataclass
class SingleUseCodes:
    """A kind: codes that are good once. ``broken`` stands for a secret that does not
    open (settled without counting)."""

    codes: set[str]
    lockout: Counter
    # The metrics' name of the kind (netbank.ops.metrics.CREDENTIAL_KINDS).
    kind: str = "otp"
    code: str = ""
    broken: bool = False
    used: set[str] = field(default_factory=set)

    @property
    def journal(self) -> list[str]:
        return self.lockout.journal

    def lock(self) -> str:
        self.journal.append(f"lock(atomic={connection.in_atomic_block})")
        return self.code

    def counter(self, locked: str) -> Counter:
        return self.lockout

    def refuse_locked(self, locked: str) -> str:
        self.journal.append("audit locked")
        return "locked"

    def verify(self, locked: str) -> Verdict[str, str]:
        self.journal.append("verify")
        if self.broken:
            return Verdict(settled="unavailable")
        return Verdict(passed=locked in self.codes, proof=locked)

    def consume(self, locked: str, proof: str) -> bool:
        self.journal.append("consume")
        if proof in self.used:
            return False
        self.used.add(proof)
        return True

    def accepted(self, locked: str, proof: str) -> str:
        self.journal.append("audit accepted")
        return "accepted"

    def rejected(self, locked: str, verdict: Verdict[str, str], *, now_locked: bool) -> str:
        self.journal.append(f"audit rejected(now_locked={now_locked})")
        return "locked" if now_locked else "rejected"


def _check(kind: SingleUseCodes, code: str) -> str:
    kind.code = code
    return credential_check(kind)


pytestmark = pytest.mark.django_db


def test_a_good_code_is_consumed_before_the_counter_is_reset_then_audited() -> None:
    counter = Counter(failures=1)
    kind = SingleUseCodes(codes={"111"}, lockout=counter)
    assert _check(kind, "111") == "accepted"
    assert counter.journal == [
        "lock(atomic=True)",
        "verify",
        "consume",
        "reset",
        "audit accepted",
    ]
    assert counter.failures == 0


def test_a_used_code_is_counted_like_a_wrong_one() -> None:
    kind = SingleUseCodes(codes={"111"}, lockout=Counter())
    assert _check(kind, "111") == "accepted"
    kind.journal.clear()
    assert _check(kind, "111") == "rejected"
    assert kind.journal == [
        "lock(atomic=True)",
        "verify",
        "consume",
        "count",
        "audit rejected(now_locked=False)",
    ]


def test_a_locked_credential_is_refused_before_anything_is_verified() -> None:
    kind = SingleUseCodes(codes={"111"}, lockout=Counter(failures=3))
    assert _check(kind, "111") == "locked"
    assert kind.journal == ["lock(atomic=True)", "audit locked"]
    assert kind.used == set()


def test_the_failure_that_reaches_the_limit_is_answered_as_locked() -> None:
    kind = SingleUseCodes(codes={"111"}, lockout=Counter(failures=2))
    assert _check(kind, "999") == "locked"
    assert kind.journal[-2:] == ["count", "audit rejected(now_locked=True)"]


def test_a_settled_verdict_consumes_and_counts_nothing() -> None:
    kind = SingleUseCodes(codes={"111"}, lockout=Counter(), broken=True)
    assert _check(kind, "111") == "unavailable"
    assert kind.journal == ["lock(atomic=True)", "verify"]
    assert kind.lockout.failures == 0


def _counted(kind: str, outcome: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "netbank_credential_checks_total", {"kind": kind, "outcome": outcome}
    )
    assert value is not None
    return value


def test_every_outcome_is_counted_by_kind() -> None:
    outcomes = ("accepted", "rejected", "locked", "refused_locked", "not_counted")
    before = {o: _counted("txauth", o) for o in outcomes}
    otp_before = {o: _counted("otp", o) for o in outcomes}
    kind = SingleUseCodes(codes={"111"}, lockout=Counter(limit=2), kind="txauth")
    assert _check(kind, "111") == "accepted"
    assert _check(kind, "999") == "rejected"
    assert _check(kind, "999") == "locked"
    assert _check(kind, "111") == "locked"  # refused before verifying
    broken = SingleUseCodes(codes={"111"}, lockout=Counter(), kind="txauth", broken=True)
    assert _check(broken, "111") == "unavailable"
    assert {o: _counted("txauth", o) - before[o] for o in outcomes} == dict.fromkeys(outcomes, 1)
    assert {o: _counted("otp", o) for o in outcomes} == otp_before
