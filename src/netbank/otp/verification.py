"""OTP verification: the one fixed sequence every channel goes through.

The sequence itself is the credential core's (``netbank.credentials``); this module is
the customer OTP's part of it: its SQL, its verification, its events.

Lock the token row together with the customer's OTP lockout counter, check the lockout,
verify with ``netbank.oath.totp_check``, advance the last accepted step with a
conditional update (so two processes can never both accept one code), then reset or
count the failure.

Rules (docs/protocols.md, "OTP verification"; the first three are ``totp_check``'s):
- a code is accepted for a step within ±``NETBANK_OTP["window"]`` steps of the bank's
  own step, or of that step plus the token's learned drift (both windows are always open,
  so a customer who puts the phone's clock right is not refused);
- never for a step at or before the last accepted step (replay, and any older code);
- the accepted step's offset from the server's step becomes the new drift, bounded by
  ``MAX_DRIFT_STEPS`` so no sequence of codes can walk the window away from real time;
- every refusal counts toward the customer's OTP lockout (all channels share it).

Every login and every channel check runs this, so its statements are written as SQL
(docs/performance.md): the ORM's query building cost several times the statements'
own work. The rare paths (a refusal, a lockout) go through the ORM services.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import connection, transaction

from netbank import clock
from netbank.audit.services import Guard, record, record_if, record_on
from netbank.credentials import Verdict, credential_check_locked
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.oath.totp import MAX_DRIFT, TotpCheck, totp_check
from netbank.ops import metrics
from netbank.otp import crypto
from netbank.otp.models import Token
from netbank.otp.token_secret import token_secret_open

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

log = logging.getLogger(__name__)

# The learned drift never exceeds this many steps either way (5 minutes at 30 s).
MAX_DRIFT_STEPS = MAX_DRIFT


class Result(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LOCKED = "locked"


@dataclass(frozen=True)
class VerifyOutcome:
    result: Result
    step: int | None = None
    # Refused although right for a step in the window: that step, or a later one, was
    # already accepted (a used code). Counted like any refusal.
    replay: bool = False

    @property
    def accepted(self) -> bool:
        return self.result is Result.ACCEPTED


@dataclass(frozen=True, slots=True)
class LockedToken:
    """What the verification reads of a token row, under its row lock."""

    id: int
    customer_id: int
    state: str
    algorithm: str
    digits: int
    period: int
    secret_key_id: str
    secret_nonce: bytes | None
    secret_ciphertext: bytes | None
    last_step: int
    drift_steps: int


# LockedToken's fields in order, as columns of otp_token.
LOCKED_COLUMNS = tuple(LockedToken.__dataclass_fields__)
_TOKEN_TABLE = Token._meta.db_table
# Conditional: only one verifier can move last_step past this value, even where row
# locks are not available (SQLite serialises writers instead).
# It guards the audit record of the acceptance (audit.services.record_if): on PostgreSQL
# the update and the record travel as one statement.
_ADVANCE_SQL = (
    f'UPDATE "{_TOKEN_TABLE}" SET "last_step" = %(advance_step)s, '  # noqa: S608
    '"drift_steps" = %(advance_drift)s '
    'WHERE "id" = %(advance_token)s AND "last_step" < %(advance_step)s RETURNING "id"'
)
# A check reads the token (t), its customer's status (c) and the customer's OTP lockout
# counter (f) in one statement that locks the token's and the counter's rows. PostgreSQL
# returns the newest committed version of a row it locks, also after waiting for it, so
# a check queued behind the one that failed for the fifth time sees the lock it set.
_CHECK_FROM = f'FROM "{_TOKEN_TABLE}" t JOIN "{Customer._meta.db_table}" c ON c.id = t.customer_id '
_COUNTER_JOIN = (
    f"JOIN \"{FailureCounter._meta.db_table}\" f ON f.kind = '{lockout.OTP}' "
    f"AND f.subject = {lockout.customer_subject_sql('t.customer_id')} "
)
_CHECK_COLUMNS = ", ".join(
    [*(f"t.{c}" for c in LOCKED_COLUMNS), "c.status", *(f"f.{c}" for c in lockout.STATUS_COLUMNS)]
)


@functools.cache
def _check_sql(where: str, *, counter: bool, row_locks: bool) -> str:
    if counter:
        sql = f"SELECT {_CHECK_COLUMNS} {_CHECK_FROM}{_COUNTER_JOIN}{where}"
    else:
        sql = f"SELECT t.customer_id {_CHECK_FROM}{where}"
    if not row_locks:  # SQLite: one writer at a time holds the whole file
        return sql
    return sql + (" FOR UPDATE OF t, f" if counter else " FOR UPDATE OF t")


@dataclass(frozen=True, slots=True)
class CheckRows:
    """What a check found and locked: the token, its customer's status, the OTP lockout."""

    token: LockedToken
    customer_status: str
    lockout: lockout.LockStatus


def lock_for_check(cursor: CursorWrapper, where: str, params: list[Any]) -> CheckRows | None:
    """Find the token that ``where`` names (SQL over ``t``, the token, and ``c``, its
    customer; at most one row), and lock it and its customer's OTP lockout counter until
    the transaction ends. None if there is no such token.

    A customer's counter row is made at their first check (the join needs it)."""
    row_locks = connection.features.has_select_for_update
    cursor.execute(_check_sql(where, counter=True, row_locks=row_locks), params)
    row = cursor.fetchone()
    if row is None:
        cursor.execute(_check_sql(where, counter=False, row_locks=row_locks), params)
        found = cursor.fetchone()
        if found is None:
            return None
        subject = lockout.subject_for_customer_id(int(found[0]))
        lockout.lockout_counter_ensure(kind=lockout.OTP, subject=subject)
        cursor.execute(_check_sql(where, counter=True, row_locks=row_locks), params)
        row = cursor.fetchone()
        if row is None:  # the token row is locked by this transaction: it cannot vanish
            raise RuntimeError("token vanished while its lockout counter was made")
    width = len(LOCKED_COLUMNS)
    return CheckRows(locked_token(row), row[width], lockout.status_of_row(row[width + 1 :]))


def locked_token(row: tuple[Any, ...]) -> LockedToken:
    """A LockedToken from a row of ``LOCKED_COLUMNS`` (in that order)."""
    (id_, customer_id, state, algorithm, digits, period, key_id, nonce, ciphertext) = row[:9]
    return LockedToken(
        int(id_),
        int(customer_id),
        state,
        algorithm,
        int(digits),
        int(period),
        key_id,
        None if nonce is None else bytes(nonce),
        None if ciphertext is None else bytes(ciphertext),
        int(row[9]),
        int(row[10]),
    )


def otp_verify(
    *,
    token: Token,
    code: str,
    channel: str,
    ip: str | None = None,
    states: tuple[str, ...] = (Token.State.IN_USE,),
) -> VerifyOutcome:
    """Check one OTP for ``token``. Counts toward the customer's OTP lockout.

    ``states`` lets 利用開始 verify a token that is still ``activated``.
    """
    customer = token.customer if Token.customer.is_cached(token) else None
    with metrics.otp_verification_timer(), transaction.atomic(), connection.cursor() as cursor:
        found = lock_for_check(cursor, "WHERE t.id = %s", [token.pk])
        if found is None:
            raise Token.DoesNotExist(f"token {token.pk} does not exist")
        return otp_verify_locked(
            cursor,
            found.token,
            found.lockout,
            code=code,
            channel=channel,
            ip=ip,
            states=states,
            customer=customer,
        )


def otp_verify_locked(
    cursor: CursorWrapper,
    locked: LockedToken,
    status: lockout.LockStatus,
    *,
    code: str,
    channel: str,
    ip: str | None = None,
    states: tuple[str, ...] = (Token.State.IN_USE,),
    customer: Customer | None = None,
) -> VerifyOutcome:
    """The sequence after the lock. The caller holds the locks of ``lock_for_check``,
    which read ``locked`` and ``status``, inside ``transaction.atomic()``."""
    check = _OtpCheck(
        cursor,
        code=code,
        channel=channel,
        ip=ip,
        states=states,
        counter=lockout.CustomerLockout(
            kind=lockout.OTP,
            customer_id=locked.customer_id,
            status=status,
            customer=customer,
            ip=ip,
        ),
    )
    return credential_check_locked(check, locked)


class _OtpCheck:
    """The customer's OTP as a kind of credential (``netbank.credentials``): the token
    row and the OTP lockout counter are locked by ``lock_for_check`` (its callers run it
    first, with their own WHERE); the proof is the accepted (step, drift); consuming it
    advances ``last_step`` (the replay guard)."""

    __slots__ = ("_counter", "channel", "code", "cursor", "ip", "states")
    kind = "otp"

    def __init__(
        self,
        cursor: CursorWrapper,
        *,
        code: str,
        channel: str,
        ip: str | None,
        states: tuple[str, ...],
        counter: lockout.CustomerLockout,
    ) -> None:
        self.cursor = cursor
        self.code = code
        self.channel = channel
        self.ip = ip
        self.states = states
        self._counter = counter

    def counter(self, locked: LockedToken) -> lockout.CustomerLockout:
        return self._counter

    def refuse_locked(self, locked: LockedToken) -> VerifyOutcome:
        record_on(
            self.cursor,
            "otp.locked",
            customer_id=locked.customer_id,
            channel=self.channel,
            ip=self.ip,
        )
        return VerifyOutcome(Result.LOCKED)

    def verify(self, locked: LockedToken) -> Verdict[TotpCheck, VerifyOutcome]:
        if locked.state not in self.states or not locked.secret_ciphertext:
            return Verdict()
        try:
            seed = token_secret_open(
                token_id=locked.id,
                customer_id=locked.customer_id,
                key_id=locked.secret_key_id,
                nonce=locked.secret_nonce,
                ciphertext=locked.secret_ciphertext,
            ).seed
        except crypto.SealError:
            # Not the customer's fault (a damaged or tampered row, or a missing key):
            # refuse without counting, and leave a trail for the bank's engineers.
            log.exception("token %s: sealed secret does not open", locked.id)
            record(
                "otp.unseal_failed",
                customer_id=locked.customer_id,
                channel=self.channel,
                ip=self.ip,
                token_id=locked.id,
            )
            return Verdict(settled=VerifyOutcome(Result.REJECTED))
        check = totp_check(
            seed,
            self.code,
            clock.timestamp(),
            last_step=locked.last_step,
            drift=locked.drift_steps,
            window=cast(int, settings.NETBANK_OTP["window"]),
            period=locked.period,
            digits=locked.digits,
            algorithm=locked.algorithm,
        )
        return Verdict(passed=check.accepted, proof=check)

    def consume(self, locked: LockedToken, proof: TotpCheck) -> bool:
        # The conditional update guards the acceptance's audit record: one statement on
        # PostgreSQL (audit.services.record_if).
        advance = Guard(
            _ADVANCE_SQL,
            {"advance_step": proof.step, "advance_drift": proof.drift, "advance_token": locked.id},
        )
        return record_if(
            self.cursor,
            advance,
            "otp.accepted",
            customer_id=locked.customer_id,
            channel=self.channel,
            ip=self.ip,
            token_id=locked.id,
            drift_steps=proof.drift,
        )

    def accepted(self, locked: LockedToken, proof: TotpCheck) -> VerifyOutcome:
        return VerifyOutcome(Result.ACCEPTED, proof.step)

    def rejected(
        self, locked: LockedToken, verdict: Verdict[TotpCheck, VerifyOutcome], *, now_locked: bool
    ) -> VerifyOutcome:
        # Right for a step in the window but already past: a used code (or one that a
        # concurrent check has just accepted, or an older one).
        replay = verdict.proof is not None and verdict.proof.step is not None
        record(
            "otp.rejected",
            customer_id=locked.customer_id,
            channel=self.channel,
            ip=self.ip,
            token_id=locked.id,
            replay=replay,
        )
        return VerifyOutcome(Result.LOCKED if now_locked else Result.REJECTED, replay=replay)
