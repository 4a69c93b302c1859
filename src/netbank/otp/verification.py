"""OTP verification: the one fixed sequence every channel goes through.

Lock the token row, check the lockout, verify within the window around the learned
drift, advance the last accepted step with a conditional update (so two processes can
never both accept one code), then reset or count the failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from django.conf import settings
from django.db import transaction

from netbank import clock
from netbank.audit.services import record
from netbank.customers import lockout
from netbank.oath.totp import totp_verify
from netbank.otp import crypto
from netbank.otp.models import Token

SEED_PURPOSE = "token-secret"


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


def token_seed(token: Token) -> bytes:
    """The OTP seed, unsealed. The sealed blob holds seed ‖ signing key (20 + 32 bytes)."""
    secret = crypto.unseal(
        purpose=SEED_PURPOSE,
        token_id=token.pk,
        customer_id=token.customer_id,
        key_id=token.secret_key_id,
        nonce=bytes(token.secret_nonce or b""),
        ciphertext=bytes(token.secret_ciphertext or b""),
    )
    return secret[:-32]


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
        step = None
        if locked.state in states and locked.secret_ciphertext:
            step = totp_verify(
                token_seed(locked),
                code,
                clock.timestamp(),
                period=locked.period,
                digits=locked.digits,
                algorithm=locked.algorithm,
                window=window,
                drift=locked.drift_steps,
            )
        if step is not None and step > locked.last_step:
            expected_step = int(clock.timestamp()) // locked.period
            # Conditional update: only one verifier can move last_step past this value.
            moved = Token.objects.filter(pk=locked.pk, last_step__lt=step).update(
                last_step=step, drift_steps=step - expected_step
            )
            if moved:
                lockout.lockout_register_success(kind=lockout.OTP, subject=subject)
                record("otp.accepted", customer_id=locked.customer_id, channel=channel, ip=ip)
                return VerifyOutcome(Result.ACCEPTED, step)
        status = lockout.lockout_register_failure(
            kind=lockout.OTP, subject=subject, customer=locked.customer, ip=ip
        )
        record(
            "otp.rejected",
            customer_id=locked.customer_id,
            channel=channel,
            ip=ip,
            replay=step is not None,
        )
        return VerifyOutcome(Result.LOCKED if status.locked else Result.REJECTED)
