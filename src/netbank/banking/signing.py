"""Transaction signing (dynamic linking): OCRA codes bound to the whole operation.

The exact format is in docs/banking.md. In short, question format 2 uses the suite
``OCRA-1:HOTP-SHA256-8:QN54``; the question is 54 decimal digits::

    purpose(1) bank(4) branch(3) type(1) account(7) amount(12)
    debit branch(3) debit account(7) date(8) nonce(8)

purpose 1 = 振込, 2 = 登録先の登録, 3 = 振込限度額の引き上げ (the new limit in the
amount field). The debit account is the customer's own account the 振込 is paid from;
the date is the 振込予約 day as YYYYMMDD, ``00000000`` for a 振込 executed now. Fields
a purpose does not use are zeros. The first digit is never 0, so every question is a
54-digit number and its OCRA encoding is unambiguous. The key is the OCRA subkey
(``netbank.oath.txsign``) of the token's 32-byte transaction-signing key (the last 32
bytes of its sealed secret), which is never used for login OTPs.

Verification rebuilds the question from the operation actually being executed and
the stored nonce: a code signed for another payee, amount, debit account or date does
not match. A challenge is consumed once (conditional update) and its hash is unique,
so no code is ever accepted twice. Wrong codes count toward the SIGNING_CODE lockout.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from netbank import clock
from netbank.audit.services import record
from netbank.banking.conf import int_setting
from netbank.banking.destination import Destination
from netbank.banking.errors import NewTokenHoldError, SigningRejectedError, SigningRequiredError
from netbank.banking.models import SigningChallenge
from netbank.credentials import Verdict, credential_check
from netbank.customers import lockout
from netbank.customers.models import Customer
from netbank.oath import txquestion
from netbank.oath.ocra import ocra_verify
from netbank.oath.txquestion import (
    FORMAT_VERSION,
    NONCE_DIGITS,
    QUESTION_DIGITS,
    SUITE,
)
from netbank.oath.txsign import ocra_key
from netbank.otp.models import Token
from netbank.otp.token_secret import token_signing_key
from netbank.otp.tokens.hold import token_hold_until
from netbank.otp.tokens.selectors import token_in_use
from netbank.web.moments import end_time_text

# Question format 2 (format 1, QN36, bound neither the debit account nor the date); the
# encoding is netbank.oath.txquestion, the same module the token app parses with.
CODE_DIGITS = 8

PURPOSE_DIGIT = {
    SigningChallenge.Purpose.TRANSFER: txquestion.PURPOSE_TRANSFER,
    SigningChallenge.Purpose.PAYEE: txquestion.PURPOSE_PAYEE,
    SigningChallenge.Purpose.LIMIT: txquestion.PURPOSE_LIMIT,
}

AUTHENTICATOR_NOTICE = _(
    "標準の認証アプリ（Google Authenticator など）では、振込先と金額に結びついた"
    "取引認証番号を作れません。そのため、新しい振込先への振込、登録先の登録、"
    "振込限度額の引き上げはご利用いただけず、振込限度額も低く設定されています。"
    "当行のワンタイムパスワードアプリに切り替えるとご利用いただけます。"
)
NO_TOKEN_NOTICE = _(
    "新しい振込先への振込、登録先の登録、振込限度額の引き上げには、"
    "ワンタイムパスワードアプリによる取引認証が必要です。"
    "「各種お申込・手続き」からワンタイムパスワードの利用を開始してください。"
)
LOCKED_MESSAGE = _(
    "取引認証番号を続けて誤って入力されたため、取引認証をロックしています。"
    "時間をおいてお試しいただくか、ヘルプデスクへご連絡ください。"
)
WRONG_CODE_MESSAGE = _(
    "取引認証番号が正しくありません。アプリに表示された振込先・金額をご確認のうえ、"
    "もう一度入力してください。"
)
EXPIRED_MESSAGE = _("取引認証の有効期限が切れました。お手数ですが、最初からやり直してください。")


class DebitAccount(Protocol):
    """The customer's own account a 振込 is paid from (an ``Account`` row)."""

    branch_code: str
    account_number: str


@dataclass(frozen=True)
class Capability:
    """Whether the customer can sign, with which token, and if not, why."""

    token: Token | None
    reason: str | Promise = ""

    @property
    def can_sign(self) -> bool:
        return self.token is not None


@dataclass(frozen=True)
class SigningOutcome:
    accepted: bool
    locked: bool = False
    message: str | Promise = ""


def build_question(
    *,
    purpose: str,
    nonce: str,
    destination: Destination | None = None,
    amount: int | None = None,
    debit_account: DebitAccount | None = None,
    scheduled_for: date | None = None,
) -> str:
    """The OCRA question (54 digits) for an operation; see the module docstring."""
    if purpose == SigningChallenge.Purpose.LIMIT:
        if destination is not None:
            raise ValueError("a limit challenge carries no payee")
        payee = ("0000", "000", "0", "0000000")
    else:
        if destination is None:
            raise ValueError(f"a {purpose} challenge needs the payee")
        payee = (
            destination.bank_code,
            destination.branch_code,
            destination.zengin_type,
            destination.account_number,
        )
    if purpose == SigningChallenge.Purpose.PAYEE:
        if amount is not None:
            raise ValueError("a payee challenge carries no amount")
        amount = 0
    elif amount is None:
        raise ValueError(f"a {purpose} challenge needs the amount")
    if purpose == SigningChallenge.Purpose.TRANSFER:
        if debit_account is None:
            raise ValueError("a transfer challenge needs the debit account")
        debit = (debit_account.branch_code, debit_account.account_number)
    else:
        if debit_account is not None or scheduled_for is not None:
            raise ValueError(f"a {purpose} challenge carries no debit account or date")
        debit = ("000", "0000000")
    # SigningQuestionError is a ValueError: a malformed operation is refused the same way.
    return txquestion.build_question(
        txquestion.SigningRequest(
            purpose=PURPOSE_DIGIT[SigningChallenge.Purpose(purpose)],
            bank_code=payee[0],
            branch_code=payee[1],
            account_type=payee[2],
            account_number=payee[3],
            amount=amount,
            nonce=nonce,
            debit_branch_code=debit[0],
            debit_account_number=debit[1],
            execution_date=txquestion.date_field(scheduled_for),
        )
    )


def is_current_format(challenge: SigningChallenge) -> bool:
    """Whether the challenge's question is of this format (not one issued before it)."""
    return len(challenge.challenge) == QUESTION_DIGITS


def question_hash(question: str) -> str:
    return hashlib.sha256(f"{SUITE}|{question}".encode("ascii")).hexdigest()


def signing_capability(customer: Customer) -> Capability:
    """The bank's token app in use can sign; a standard authenticator cannot."""
    token = token_in_use(customer)
    if token is None:
        return Capability(None, NO_TOKEN_NOTICE)
    if token.kind != Token.Kind.APP or not token.secret_ciphertext:
        return Capability(None, AUTHENTICATOR_NOTICE)
    return Capability(token)


def new_token_hold_until(customer: Customer) -> datetime | None:
    """When the hold after a token issue or re-issue ends, if it has not yet."""
    token = token_in_use(customer)
    if token is None:
        return None
    until = token_hold_until(token)
    return until if until > clock.now() else None


def check_new_token_hold(customer: Customer) -> None:
    until = new_token_hold_until(customer)
    if until is not None:
        raise NewTokenHoldError(
            _(
                "トークンの発行から24時間は、新しい振込先への振込、登録先の登録、"
                "振込限度額の引き上げをお受けできません（%(until)s 以降にご利用いただけます）。"
                "お心当たりのないトークン発行があった場合は、ただちにヘルプデスクへご連絡ください。"
            )
            % {"until": end_time_text(until)}
        )


def signing_locked(customer: Customer) -> bool:
    subject = lockout.subject_for_customer(customer)
    return lockout.lockout_status(kind=lockout.SIGNING_CODE, subject=subject).locked


def challenge_details(
    *,
    purpose: str,
    destination: Destination | None,
    amount: int | None,
    debit_account: DebitAccount | None = None,
    scheduled_for: date | None = None,
) -> dict[str, Any]:
    """What the token app shows before it signs (no secrets)."""
    details: dict[str, Any] = {"purpose": purpose, "format": FORMAT_VERSION}
    if destination is not None:
        details.update(destination.as_dict())
        details["account_type_digit"] = destination.zengin_type
    if amount is not None:
        details["new_limit" if purpose == SigningChallenge.Purpose.LIMIT else "amount"] = amount
    if debit_account is not None:
        details["debit_branch_code"] = debit_account.branch_code
        details["debit_account_number"] = debit_account.account_number
        details["scheduled_for"] = scheduled_for.isoformat() if scheduled_for else None
    return details


def signing_challenge(
    *,
    customer: Customer,
    purpose: str,
    destination: Destination | None = None,
    amount: int | None = None,
    debit_account: DebitAccount | None = None,
    scheduled_for: date | None = None,
    ip: str | None = None,
) -> SigningChallenge:
    """Create a fresh challenge for this operation (shown on the 確認 screen)."""
    capability = signing_capability(customer)
    if capability.token is None:
        raise SigningRequiredError(capability.reason)
    if signing_locked(customer):
        raise SigningRejectedError(LOCKED_MESSAGE, code="signing_locked")
    now = clock.now()
    ttl = timedelta(seconds=int_setting("challenge_ttl_seconds"))
    with transaction.atomic():
        for _attempt in range(10):
            nonce = f"{secrets.randbelow(10**NONCE_DIGITS):0{NONCE_DIGITS}d}"
            question = build_question(
                purpose=purpose,
                nonce=nonce,
                destination=destination,
                amount=amount,
                debit_account=debit_account,
                scheduled_for=scheduled_for,
            )
            try:
                with transaction.atomic():
                    challenge = SigningChallenge.objects.create(
                        customer=customer,
                        token=capability.token,
                        purpose=purpose,
                        challenge=question,
                        challenge_hash=question_hash(question),
                        details=challenge_details(
                            purpose=purpose,
                            destination=destination,
                            amount=amount,
                            debit_account=debit_account,
                            scheduled_for=scheduled_for,
                        ),
                        created_at=now,
                        expires_at=now + ttl,
                    )
            except IntegrityError:
                continue  # this exact question was issued before: draw another nonce
            record(
                "banking.signing.challenge",
                customer_id=customer.pk,
                ip=ip,
                challenge_id=challenge.pk,
                purpose=purpose,
            )
            return challenge
    raise RuntimeError("could not draw an unused signing challenge")


def signing_verify(
    *,
    customer: Customer,
    challenge_id: int | None,
    purpose: str,
    code: str,
    destination: Destination | None = None,
    amount: int | None = None,
    debit_account: DebitAccount | None = None,
    scheduled_for: date | None = None,
    ip: str | None = None,
) -> SigningOutcome:
    """Check a signing code for exactly this operation, and consume its challenge.

    The credential core's sequence (``netbank.credentials``): lock the challenge row,
    check the lockout, rebuild the question from the operation, verify the OCRA code
    with the token's signing key, consume the challenge with a conditional update, then
    reset or count the failure.
    """
    return credential_check(
        _SigningCheck(
            customer=customer,
            challenge_id=challenge_id,
            purpose=purpose,
            code=code,
            operation={
                "destination": destination,
                "amount": amount,
                "debit_account": debit_account,
                "scheduled_for": scheduled_for,
            },
            ip=ip,
        )
    )


@dataclass(frozen=True)
class _Locked:
    challenge: SigningChallenge | None
    counter: lockout.CustomerLockout


@dataclass(frozen=True)
class _Signed:
    challenge: SigningChallenge
    # The question rebuilt from what is being executed is the one issued.
    bound: bool


class _SigningCheck:
    """取引認証 as a kind of credential: the challenge row is locked, the proof is the
    challenge the code signed, consuming it sets ``used_at`` (once), and failures count
    on the customer's SIGNING_CODE lockout."""

    kind = "txauth"

    def __init__(
        self,
        *,
        customer: Customer,
        challenge_id: int | None,
        purpose: str,
        code: str,
        operation: dict[str, Any],
        ip: str | None,
    ) -> None:
        self.customer = customer
        self.challenge_id = challenge_id
        self.purpose = purpose
        self.code = code
        self.operation = operation
        self.ip = ip
        self.now = clock.now()

    def lock(self) -> _Locked:
        challenge = (
            SigningChallenge.objects.select_for_update(of=("self",))
            .filter(pk=self.challenge_id, customer=self.customer)
            .select_related("token")
            .first()
            if self.challenge_id is not None
            else None
        )
        subject = lockout.subject_for_customer(self.customer)
        status = lockout.lockout_status(kind=lockout.SIGNING_CODE, subject=subject)
        # The counter's row is not locked here (lockout_register_failure locks it), so a
        # success resets it whatever this read saw.
        counter = lockout.CustomerLockout(
            kind=lockout.SIGNING_CODE,
            customer_id=self.customer.pk,
            status=status,
            customer=self.customer,
            ip=self.ip,
            failures_known=False,
        )
        return _Locked(challenge, counter)

    def counter(self, locked: _Locked) -> lockout.CustomerLockout:
        return locked.counter

    def refuse_locked(self, locked: _Locked) -> SigningOutcome:
        record(
            "banking.signing.locked", customer_id=self.customer.pk, ip=self.ip, purpose=self.purpose
        )
        return SigningOutcome(False, locked=True, message=LOCKED_MESSAGE)

    def verify(self, locked: _Locked) -> Verdict[_Signed, SigningOutcome]:
        challenge = locked.challenge
        if challenge is None:
            return Verdict()
        if challenge.used_at is None and (
            challenge.expires_at <= self.now or not is_current_format(challenge)
        ):
            # An older format's question (issued before an upgrade) is answered like an
            # expired one, not counted: the customer did nothing wrong.
            record(
                "banking.signing.expired",
                customer_id=self.customer.pk,
                ip=self.ip,
                challenge_id=challenge.pk,
            )
            return Verdict(settled=SigningOutcome(False, message=EXPIRED_MESSAGE))
        nonce = challenge.challenge[-NONCE_DIGITS:]
        try:
            expected = build_question(purpose=self.purpose, nonce=nonce, **self.operation)
        except ValueError:
            expected = ""
        bound = challenge.purpose == self.purpose and hmac.compare_digest(
            expected.encode("ascii"), challenge.challenge.encode("ascii")
        )
        token = challenge.token
        fresh = (
            challenge.used_at is None
            and token.state == Token.State.IN_USE
            and token.kind == Token.Kind.APP
        )
        code_ok = (
            fresh
            and bound
            and ocra_verify(SUITE, ocra_key(token_signing_key(token)), self.code, question=expected)
        )
        return Verdict(passed=code_ok, proof=_Signed(challenge, bound))

    def consume(self, locked: _Locked, proof: _Signed) -> bool:
        return bool(
            SigningChallenge.objects.filter(pk=proof.challenge.pk, used_at__isnull=True).update(
                used_at=self.now
            )
        )

    def accepted(self, locked: _Locked, proof: _Signed) -> SigningOutcome:
        record(
            "banking.signing.accepted",
            customer_id=self.customer.pk,
            ip=self.ip,
            challenge_id=proof.challenge.pk,
            purpose=self.purpose,
        )
        return SigningOutcome(True)

    def rejected(
        self, locked: _Locked, verdict: Verdict[_Signed, SigningOutcome], *, now_locked: bool
    ) -> SigningOutcome:
        challenge = locked.challenge
        record(
            "banking.signing.rejected",
            customer_id=self.customer.pk,
            ip=self.ip,
            challenge_id=challenge.pk if challenge is not None else None,
            purpose=self.purpose,
            bound=verdict.proof is not None and verdict.proof.bound,
            reused=challenge is not None and challenge.used_at is not None,
        )
        if now_locked:
            return SigningOutcome(False, locked=True, message=LOCKED_MESSAGE)
        return SigningOutcome(False, message=WRONG_CODE_MESSAGE)


def signing_pending(customer: Customer) -> SigningChallenge | None:
    """The newest unexpired, unused challenge: what the token app fetches to show."""
    challenge = (
        SigningChallenge.objects.filter(
            customer=customer, used_at__isnull=True, expires_at__gt=clock.now()
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    return challenge if challenge is not None and is_current_format(challenge) else None
