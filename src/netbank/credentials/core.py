"""The sequence every credential check runs, and the two contracts it is given.

``CredentialCheck`` is one attempt of one kind of credential; ``FailureCounter`` is the
lockout counter that attempt counts on. ``credential_check_locked`` runs, in this order:

1. refuse (and audit) if the counter is locked, before any verification;
2. verify; a verdict may settle the attempt without counting (an expired challenge, a
   sealed secret that does not open: not the presenter's fault);
3. consume what was verified so it is never accepted twice (a conditional update: the
   replay guard), and only then reset the counter and answer "accepted";
4. otherwise count the failure, and audit the refusal knowing whether it locked.

Each attempt's outcome is counted by kind (``netbank.ops.metrics``, a leaf).

The caller holds the rows it locked (``CredentialCheck.lock``) inside one transaction;
``credential_check`` opens that transaction and locks (``LockingCheck``). Each step's SQL is the kind's
own, so a hot path keeps its hand-written statements (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from django.db import transaction

from netbank.ops import metrics

Locked = TypeVar("Locked")
# What a check reads of its locked rows; only passed in, so contravariant in the protocol.
LockedRows = TypeVar("LockedRows", contravariant=True)
Proof = TypeVar("Proof")
Answer = TypeVar("Answer")


class FailureCounter(Protocol):
    """A lockout counter, as read under the check's lock."""

    @property
    def locked(self) -> bool:
        """Locked now: the attempt is refused before anything is verified."""
        ...

    def reset(self) -> None:
        """A success: forget the consecutive failures (not the lock history)."""
        ...

    def count_failure(self) -> bool:
        """Count one failure; True if it locked the counter."""
        ...


@dataclass(frozen=True, slots=True)
class Verdict(Generic[Proof, Answer]):
    """What verification found.

    ``passed`` with the ``proof`` to consume (a time step, a challenge); or not passed
    (``proof`` may still say why, e.g. a replayed step); or ``settled``: the answer,
    already audited, with nothing consumed and nothing counted.
    """

    passed: bool = False
    proof: Proof | None = None
    settled: Answer | None = None


class CredentialCheck(Protocol[LockedRows, Proof, Answer]):
    """One attempt of one kind of credential: what differs between kinds, once its rows
    are locked (by the caller, or by ``LockingCheck.lock``)."""

    @property
    def kind(self) -> str:
        """Which credential this is, for the metrics (``metrics.CREDENTIAL_KINDS``)."""
        ...

    def counter(self, locked: LockedRows) -> FailureCounter: ...

    def refuse_locked(self, locked: LockedRows) -> Answer:
        """Audit the refusal of a locked credential and answer it."""
        ...

    def verify(self, locked: LockedRows) -> Verdict[Proof, Answer]: ...

    def consume(self, locked: LockedRows, proof: Proof) -> bool:
        """Mark ``proof`` used, conditionally; False if it already was (a replay, or a
        concurrent check took it first). May write the acceptance's audit record with it."""
        ...

    def accepted(self, locked: LockedRows, proof: Proof) -> Answer:
        """After the counter's reset: the rest of the success (audit) and its answer."""
        ...

    def rejected(
        self, locked: LockedRows, verdict: Verdict[Proof, Answer], *, now_locked: bool
    ) -> Answer:
        """After the failure was counted: its audit and answer."""
        ...


class LockingCheck(CredentialCheck[Locked, Proof, Answer], Protocol):
    """A check that also knows how to find and lock its rows."""

    def lock(self) -> Locked:
        """Find and lock the credential's rows and its counter (inside the transaction)."""
        ...


def credential_check_locked(
    check: CredentialCheck[Locked, Proof, Answer], locked: Locked
) -> Answer:
    """The sequence after the lock; the caller holds ``check.lock()``'s locks inside
    ``transaction.atomic()``."""
    counter = check.counter(locked)
    if counter.locked:
        answer = check.refuse_locked(locked)
        metrics.credential_check(check.kind, "refused_locked")
        return answer
    verdict = check.verify(locked)
    if verdict.settled is not None:
        metrics.credential_check(check.kind, "not_counted")
        return verdict.settled
    if verdict.passed and verdict.proof is not None and check.consume(locked, verdict.proof):
        counter.reset()
        answer = check.accepted(locked, verdict.proof)
        metrics.credential_check(check.kind, "accepted")
        return answer
    now_locked = counter.count_failure()
    answer = check.rejected(locked, verdict, now_locked=now_locked)
    metrics.credential_check(check.kind, "locked" if now_locked else "rejected")
    return answer


def credential_check(check: LockingCheck[Locked, Proof, Answer]) -> Answer:
    """Lock, then the whole sequence, in one transaction."""
    with transaction.atomic():
        return credential_check_locked(check, check.lock())
