"""OTP verification: the one fixed sequence every channel goes through.

Lock the token row, check the lockout, verify within the window around the learned
drift, advance the last accepted step with a conditional update (so two processes can
never both accept one code), then reset or count the failure.

Rules (docs/protocols.md, "OTP verification"):
- a code is accepted for a step within ±``NETBANK_OTP["window"]`` steps of now plus the
  token's learned drift;
- never for a step at or before the last accepted step (replay, and any older code);
- the accepted step's offset from the server's step becomes the new drift, bounded by
  ``MAX_DRIFT_STEPS`` so no sequence of codes can walk the window away from real time;
- every refusal counts toward the customer's OTP lockout (all channels share it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from django.conf import settings
from django.db import transaction

from netbank import clock
from netbank.audit.services import record
from netbank.customers import lockout
from netbank.oath.totp import time_step, totp_verify
from netbank.otp import crypto
from netbank.otp.models import Token

log = logging.getLogger(__name__)

# Sealing purpose of a token's secret: the OTP seed ‖ the 32-byte transaction-signing key.
SEED_PURPOSE = "token-secret"
SIGNING_KEY_BYTES = 32
# The learned drift never exceeds this many steps either way (5 minutes at 30 s).
MAX_DRIFT_STEPS = 10


class Result(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LOCKED = "locked"


@dataclass(frozen=True)
class VerifyOutcome:
    result: Result
    step: int | None = None

    @property
    def accepted(self) -> bool:
        return self.result is Result.ACCEPTED


def token_secret(token: Token) -> bytes:
    """The whole sealed secret: seed ‖ signing key. Raises crypto.SealError if the row's
    ciphertext does not open for this token and customer (e.g. copied from another row).
    """
    secret = crypto.unseal(
        purpose=SEED_PURPOSE,
        token_id=token.pk,
        customer_id=token.customer_id,
        key_id=token.secret_key_id,
        nonce=bytes(token.secret_nonce or b""),
        ciphertext=bytes(token.secret_ciphertext or b""),
    )
    if len(secret) < SIGNING_KEY_BYTES + 16:
        raise crypto.SealError("sealed token secret is too short")
    return secret


def token_seed(token: Token) -> bytes:
    """The OTP seed, unsealed. The sealed blob holds seed ‖ signing key (20 + 32 bytes for SHA1)."""
    return token_secret(token)[:-SIGNING_KEY_BYTES]


def _clamp(drift: int) -> int:
    return max(-MAX_DRIFT_STEPS, min(MAX_DRIFT_STEPS, drift))


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
    subject = lockout.subject_for_customer(token.customer)
    window = cast(int, settings.NETBANK_OTP["window"])
    with transaction.atomic():
        locked = Token.objects.select_for_update().get(pk=token.pk)
        if lockout.lockout_status(kind=lockout.OTP, subject=subject).locked:
            record("otp.locked", customer_id=locked.customer_id, channel=channel, ip=ip)
            return VerifyOutcome(Result.LOCKED)
        now = clock.timestamp()
        step = None
        if locked.state in states and locked.secret_ciphertext:
            try:
                seed = token_seed(locked)
            except crypto.SealError:
                # Not the customer's fault (a damaged or tampered row, or a missing key):
                # refuse without counting, and leave a trail for the bank's engineers.
                log.exception("token %s: sealed secret does not open", locked.pk)
                record(
                    "otp.unseal_failed",
                    customer_id=locked.customer_id,
                    channel=channel,
                    ip=ip,
                    token_id=locked.pk,
                )
                return VerifyOutcome(Result.REJECTED)
            step = totp_verify(
                seed,
                code,
                now,
                period=locked.period,
                digits=locked.digits,
                algorithm=locked.algorithm,
                window=window,
                drift=locked.drift_steps,
            )
        if step is not None and step > locked.last_step:
            drift = _clamp(step - time_step(now, period=locked.period))
            # Conditional update: only one verifier can move last_step past this value,
            # even where the row lock above is not available (SQLite serialises writers).
            moved = Token.objects.filter(pk=locked.pk, last_step__lt=step).update(
                last_step=step, drift_steps=drift
            )
            if moved:
                lockout.lockout_register_success(kind=lockout.OTP, subject=subject)
                record(
                    "otp.accepted",
                    customer_id=locked.customer_id,
                    channel=channel,
                    ip=ip,
                    token_id=locked.pk,
                    drift_steps=drift,
                )
                return VerifyOutcome(Result.ACCEPTED, step)
        status = lockout.lockout_register_failure(
            kind=lockout.OTP, subject=subject, customer=locked.customer, ip=ip
        )
        record(
            "otp.rejected",
            customer_id=locked.customer_id,
            channel=channel,
            ip=ip,
            token_id=locked.pk,
            replay=step is not None,
        )
        return VerifyOutcome(Result.LOCKED if status.locked else Result.REJECTED)
