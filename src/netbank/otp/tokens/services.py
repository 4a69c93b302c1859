"""Token lifecycle services: issue, re-issue, 利用開始, 利用解除 and the authenticator-app path.

Every state change is one transaction that writes its audit record and queues its
mails (an outbox row) in that same transaction, so a rollback loses neither or both.

A customer has at most one token in use. A re-issue (new or lost phone) creates a new
token that ``replaces`` the one in use; the old token keeps working until the new one
reaches 利用開始, and only then is it revoked. A token that is still waiting for its app
set-up (issued or activated) is voided by a newer issue, so only the newest issue can
ever be set up.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from netbank import clock
from netbank.audit.services import record
from netbank.customers.models import Customer
from netbank.customers.services import (
    CredentialOutcome,
    secret_answer_check,
    transaction_password_check,
)
from netbank.customers.validators import validate_email_address
from netbank.oath.hotp import normalize_algorithm
from netbank.oath.otpauth import OtpAuthUri, b32encode, build_uri
from netbank.otp import crypto
from netbank.otp.models import Token
from netbank.otp.token_secret import SIGNING_KEY_BYTES, token_secret_of, token_secret_seal
from netbank.otp.tokens import mails, selectors
from netbank.otp.verification import Result, otp_verify

ACTIVATION_PASSWORD_PURPOSE = "activation-password"  # noqa: S105 - a sealing purpose, not a secret
USER_ID_DIGITS = 12
# OTP seed sizes per HMAC algorithm: the hash's block-independent output size, at
# least 160 bits (RFC 4226 recommends 160; RFC 6238 suggests the hash length).
SEED_BYTES = {"SHA1": 20, "SHA256": 32, "SHA512": 64}
_ACTIVATION_PASSWORD_RE = re.compile(r"[0-9]{4,8}")
_USER_ID_ATTEMPTS = 20
PENDING_STATES = (Token.State.ISSUED, Token.State.ACTIVATED)


class TokenError(Exception):
    """A token request that cannot be carried out; ``code`` says why (no secrets)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class StartUseResult(StrEnum):
    STARTED = "started"
    NO_TOKEN = "no_token"  # noqa: S105 - nothing issued, or the issue expired / was voided
    NOT_SET_UP = "not_set_up"  # issued, but the app has not activated it yet
    REJECTED = "rejected"  # wrong or replayed OTP
    LOCKED = "locked"  # the customer's OTP counter is locked


@dataclass(frozen=True)
class StartUseOutcome:
    result: StartUseResult
    token: Token | None = None

    @property
    def started(self) -> bool:
        return self.result is StartUseResult.STARTED


@dataclass(frozen=True)
class AuthenticatorIssue:
    """A freshly issued authenticator-app token and its otpauth URI (shown once)."""

    token: Token
    otpauth_uri: str
    secret_base32: str


def _otp_settings() -> dict[str, object]:
    return cast(dict[str, object], settings.NETBANK_OTP)


def activation_password_valid(password: str) -> bool:
    """4–8 half-width digits (the leaflet's 利用開始パスワード)."""
    return bool(_ACTIVATION_PASSWORD_RE.fullmatch(password)) and password.isascii()


def _check_issue_input(*, customer: Customer, email: str, activation_password: str) -> None:
    if customer.status != Customer.Status.ACTIVE:
        raise TokenError("customer_inactive")
    try:
        validate_email_address(email)
    except ValidationError:
        raise TokenError("bad_email") from None
    if not activation_password_valid(activation_password):
        raise TokenError("bad_activation_password")


def _new_user_id(customer: Customer) -> str:
    """A random 12-digit ユーザID: unique, never sequential, never anyone's login ID.

    The first digit is never 0, so apps and spreadsheets cannot drop a leading zero.
    """
    low = 10 ** (USER_ID_DIGITS - 1)
    for _ in range(_USER_ID_ATTEMPTS):
        candidate = str(low + secrets.randbelow(9 * low))
        if candidate == customer.login_id:
            continue
        if Token.objects.filter(user_id=candidate).exists():
            continue
        if Customer.objects.filter(login_id=candidate).exists():
            continue
        return candidate
    raise TokenError("user_id_exhausted")


def _void_pending(*, customer: Customer, ip: str | None, reason: str) -> None:
    """End every issue of ``customer`` that has not reached 利用開始."""
    now = clock.now()
    for token in Token.objects.select_for_update().filter(
        customer=customer, state__in=PENDING_STATES
    ):
        token.state = Token.State.VOIDED
        token.ended_at = now
        _forget_secrets(token)
        token.save()
        record(
            "token.voided",
            customer_id=customer.pk,
            ip=ip,
            token_id=token.pk,
            user_id=token.user_id,
            reason=reason,
        )


def _forget_secrets(token: Token) -> None:
    """Drop the sealed activation password and seed of a token that can never be used."""
    token.activation_key_id = ""
    token.activation_nonce = None
    token.activation_ciphertext = None
    token.secret_key_id = ""
    token.secret_nonce = None
    token.secret_ciphertext = None


def _token_create(*, customer: Customer, kind: str, state: str, email: str) -> Token:
    """Insert a token row with a fresh ユーザID, retrying if another process took it."""
    opts = _otp_settings()
    now = clock.now()
    ttl = int(cast(int, opts["issue_ttl_seconds"]))
    replaces = selectors.token_in_use(customer)
    for _ in range(_USER_ID_ATTEMPTS):
        user_id = _new_user_id(customer)
        try:
            # A savepoint, so a lost race on the unique ユーザID retries inside the caller's transaction.
            with transaction.atomic():
                return Token.objects.create(
                    customer=customer,
                    user_id=user_id,
                    kind=kind,
                    state=state,
                    email=email,
                    algorithm=str(opts["algorithm"]).upper(),
                    digits=int(cast(int, opts["digits"])),
                    period=int(cast(int, opts["period"])),
                    replaces=replaces,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl),
                )
        except IntegrityError:
            continue
    raise TokenError("user_id_exhausted")


def _lock_customer(customer: Customer) -> Customer:
    """Serialise token changes of one customer (two tabs, two app nodes)."""
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _record_issued(*, token: Token, customer: Customer, ip: str | None) -> bool:
    """Audit a new token (an app token or an authenticator); True when it replaces one."""
    reissue = token.replaces_id is not None
    record(
        "token.issued",
        customer_id=customer.pk,
        ip=ip,
        token_id=token.pk,
        user_id=token.user_id,
        kind=token.kind,
        reissue=reissue,
        replaces_token_id=token.replaces_id,
        expires_at=token.expires_at.isoformat(),
    )
    return reissue


def token_issue(
    *,
    customer: Customer,
    email: str,
    activation_password: str,
    ip: str | None,
    smartphone: bool = False,
) -> Token:
    """トークン発行 / 再発行: a new token waiting for the app, its mail, and the notice
    (``smartphone``: applied for on SLI012, for the mail's wording).

    The caller has already checked the 確認用パスワード and the 追加認証 answer
    (see ``token_issue_authorised``).
    """
    _check_issue_input(customer=customer, email=email, activation_password=activation_password)
    with transaction.atomic():
        customer = _lock_customer(customer)
        if customer.status != Customer.Status.ACTIVE:
            raise TokenError("customer_inactive")
        _void_pending(customer=customer, ip=ip, reason="reissued")
        token = _token_create(
            customer=customer, kind=Token.Kind.APP, state=Token.State.ISSUED, email=email
        )
        sealed = crypto.seal(
            purpose=ACTIVATION_PASSWORD_PURPOSE,
            token_id=token.pk,
            customer_id=customer.pk,
            plaintext=activation_password.encode("ascii"),
        )
        token.activation_key_id = sealed.key_id
        token.activation_nonce = sealed.nonce
        token.activation_ciphertext = sealed.ciphertext
        token.save(update_fields=["activation_key_id", "activation_nonce", "activation_ciphertext"])
        reissue = _record_issued(token=token, customer=customer, ip=ip)
        mails.token_mail_enqueue(token=token, smartphone=smartphone)
        mails.issue_notice_enqueue(customer=customer, token=token, reissue=reissue)
    return token


def _activated_token(customer: Customer) -> Token | None:
    return (
        Token.objects.filter(customer=customer, state=Token.State.ACTIVATED)
        .order_by("-created_at")
        .first()
    )


def _expire_if_due(token: Token, ip: str | None) -> bool:
    """An authenticator key shown but never confirmed expires with its issue."""
    if token.kind != Token.Kind.AUTHENTICATOR or token.expires_at > clock.now():
        return False
    with transaction.atomic():
        moved = Token.objects.filter(pk=token.pk, state=Token.State.ACTIVATED).update(
            state=Token.State.EXPIRED,
            ended_at=clock.now(),
            secret_key_id="",
            secret_nonce=None,
            secret_ciphertext=None,
        )
        if moved:
            record("token.expired", customer_id=token.customer_id, ip=ip, token_id=token.pk)
    return True


def token_start_use(
    *, customer: Customer, code: str, ip: str | None, channel: str = "web"
) -> StartUseOutcome:
    """ワンタイムパスワード利用開始: the first OTP from the activated token puts it in use.

    ``channel`` names where the code came from (the PC screen, or the app's Directログイン).

    The replaced token (a re-issue) is revoked in the same transaction, so there is
    never a moment with two tokens in use or with none.
    """
    token = _activated_token(customer)
    if token is None:
        pending = Token.objects.filter(
            customer=customer, state=Token.State.ISSUED, expires_at__gt=clock.now()
        ).exists()
        return StartUseOutcome(StartUseResult.NOT_SET_UP if pending else StartUseResult.NO_TOKEN)
    if _expire_if_due(token, ip):
        return StartUseOutcome(StartUseResult.NO_TOKEN)
    with transaction.atomic():
        # Customer row first, as token_issue and token_cancel do: a re-issue and a
        # 利用開始 of one customer never interleave, and locks are always taken in the
        # same order (customer, then tokens), so they cannot deadlock.
        customer = _lock_customer(customer)
        if not Token.objects.filter(pk=token.pk, state=Token.State.ACTIVATED).exists():
            # Voided by a newer issue while this request waited: nothing to start,
            # and nothing to count against the customer.
            return StartUseOutcome(StartUseResult.NO_TOKEN)
        outcome = otp_verify(
            token=token,
            code=code,
            channel=channel,
            ip=ip,
            states=(Token.State.ACTIVATED,),
        )
        if outcome.result is Result.LOCKED:
            return StartUseOutcome(StartUseResult.LOCKED, token)
        if not outcome.accepted:
            return StartUseOutcome(StartUseResult.REJECTED, token)
        # otp_verify holds the row lock; re-read it to move the state.
        token = Token.objects.select_for_update().get(pk=token.pk)
        now = clock.now()
        token.state = Token.State.IN_USE
        token.in_use_at = now
        token.activation_key_id = ""
        token.activation_nonce = None
        token.activation_ciphertext = None
        token.save(
            update_fields=[
                "state",
                "in_use_at",
                "activation_key_id",
                "activation_nonce",
                "activation_ciphertext",
            ]
        )
        record(
            "token.in_use",
            customer_id=customer.pk,
            ip=ip,
            token_id=token.pk,
            user_id=token.user_id,
            kind=token.kind,
        )
        for old in (
            Token.objects.select_for_update()
            .filter(customer=customer, state__in=(Token.State.IN_USE, Token.State.SUSPENDED))
            .exclude(pk=token.pk)
        ):
            old.state = Token.State.REVOKED
            old.ended_at = now
            _forget_secrets(old)
            old.save()
            record(
                "token.revoked",
                customer_id=customer.pk,
                ip=ip,
                token_id=old.pk,
                user_id=old.user_id,
                reason="replaced",
                replaced_by_token_id=token.pk,
            )
        mails.start_use_notice_enqueue(customer=customer, token=token)
    return StartUseOutcome(StartUseResult.STARTED, token)


def token_cancel(*, customer: Customer, ip: str | None) -> int:
    """利用解除: revoke the token in use and any pending issue; login goes back to
    ID + password only. The caller has checked the 確認用パスワード.

    Refused when the bank makes OTP mandatory. Returns how many tokens ended.
    """
    if _otp_settings().get("mandatory"):
        raise TokenError("otp_mandatory")
    with transaction.atomic():
        customer = _lock_customer(customer)
        now = clock.now()
        ended = 0
        for token in Token.objects.select_for_update().filter(
            customer=customer,
            state__in=(Token.State.IN_USE, Token.State.ISSUED, Token.State.ACTIVATED),
        ):
            previous = token.state
            token.state = (
                Token.State.REVOKED if previous == Token.State.IN_USE else Token.State.VOIDED
            )
            token.ended_at = now
            _forget_secrets(token)
            token.save()
            record(
                "token.revoked" if previous == Token.State.IN_USE else "token.voided",
                customer_id=customer.pk,
                ip=ip,
                token_id=token.pk,
                user_id=token.user_id,
                reason="cancelled_by_customer",
            )
            ended += 1
        if ended == 0:
            raise TokenError("no_token")
        mails.cancel_notice_enqueue(customer=customer)
    return ended


# --- Standard authenticator apps (otpauth://), where the bank allows them ---------


def authenticator_allowed() -> bool:
    return bool(_otp_settings().get("allow_authenticator_apps"))


def otpauth_uri(*, token: Token, secret: bytes) -> str:
    """The Key URI Format text authenticator apps read: ``issuer:ユーザID``, every
    parameter explicit. The login ID never appears in it."""
    return build_uri(
        OtpAuthUri(
            account=token.user_id,
            secret=secret,
            issuer=str(settings.NETBANK_BANK_NAME),
            algorithm=normalize_algorithm(token.algorithm),
            digits=token.digits,
            period=token.period,
        )
    )


def token_issue_authenticator(*, customer: Customer, ip: str | None) -> AuthenticatorIssue:
    """A token for a standard authenticator app. It counts only after one code from the
    app confirms it (``token_start_use``); until then the key can be shown again to the
    logged-in customer, and never once confirmed. The caller has checked the
    確認用パスワード and the 追加認証 answer.
    """
    if not authenticator_allowed():
        raise TokenError("authenticator_not_allowed")
    with transaction.atomic():
        customer = _lock_customer(customer)
        if customer.status != Customer.Status.ACTIVE:
            raise TokenError("customer_inactive")
        _void_pending(customer=customer, ip=ip, reason="reissued")
        token = _token_create(
            customer=customer,
            kind=Token.Kind.AUTHENTICATOR,
            state=Token.State.ACTIVATED,
            email="",
        )
        seed = secrets.token_bytes(SEED_BYTES.get(token.algorithm, 32))
        signing_key = secrets.token_bytes(SIGNING_KEY_BYTES)
        sealed = token_secret_seal(
            token_id=token.pk, customer_id=customer.pk, seed=seed, signing_key=signing_key
        )
        token.secret_key_id = sealed.key_id
        token.secret_nonce = sealed.nonce
        token.secret_ciphertext = sealed.ciphertext
        token.activated_at = token.created_at
        token.save(
            update_fields=["secret_key_id", "secret_nonce", "secret_ciphertext", "activated_at"]
        )
        reissue = _record_issued(token=token, customer=customer, ip=ip)
        mails.issue_notice_enqueue(customer=customer, token=token, reissue=reissue)
    return AuthenticatorIssue(
        token=token,
        otpauth_uri=otpauth_uri(token=token, secret=seed),
        secret_base32=b32encode(seed),
    )


def authenticator_pending(*, customer: Customer) -> AuthenticatorIssue | None:
    """The unconfirmed authenticator token's key, to show again before confirmation.

    None once it is confirmed, voided or expired: a confirmed key is never shown again.
    """
    token = (
        Token.objects.filter(
            customer=customer,
            kind=Token.Kind.AUTHENTICATOR,
            state=Token.State.ACTIVATED,
            expires_at__gt=clock.now(),
        )
        .order_by("-created_at")
        .first()
    )
    if token is None or not token.secret_ciphertext:
        return None
    seed = token_secret_of(token).seed
    return AuthenticatorIssue(
        token=token,
        otpauth_uri=otpauth_uri(token=token, secret=seed),
        secret_base32=b32encode(seed),
    )


# --- The checks in front of every issue, re-issue and 利用解除 -----------------------


@dataclass(frozen=True)
class AuthorisedOutcome:
    """What an issue or 利用解除 behind the 確認用パスワード (and 追加認証) came to.

    ``field_errors`` name the form field that was wrong; ``message`` is a lock message
    (it names the helpdesk); ``stale_question`` means the 追加認証 question changed
    and must be asked again (nothing was counted).
    """

    token: Token | None = None
    issue: AuthenticatorIssue | None = None
    field_errors: dict[str, str] | None = None
    message: str = ""
    stale_question: bool = False

    @property
    def ok(self) -> bool:
        return not self.field_errors and not self.message and not self.stale_question


def _refused(field: str, outcome: CredentialOutcome) -> AuthorisedOutcome:
    if outcome.locked:
        return AuthorisedOutcome(message=outcome.message)
    if outcome.stale:
        return AuthorisedOutcome(stale_question=True, message=outcome.message)
    return AuthorisedOutcome(field_errors={field: outcome.message})


def _checks(
    *,
    customer: Customer,
    transaction_password: str,
    question_id: int | None,
    answer: str | None,
    ip: str | None,
) -> AuthorisedOutcome | None:
    """The 確認用パスワード, then (if asked) the 追加認証 answer; None when both pass.

    The answer is checked only after a correct 確認用パスワード, so the secret question
    cannot be guessed by someone who does not hold the password. Each wrong value
    counts toward its own lockout.
    """
    password_outcome = transaction_password_check(
        customer=customer, password=transaction_password, ip=ip
    )
    if not password_outcome.ok:
        return _refused("transaction_password", password_outcome)
    if question_id is None:
        return None
    answer_outcome = secret_answer_check(
        customer=customer, question_id=question_id, answer=answer or "", ip=ip
    )
    if not answer_outcome.ok:
        return _refused("answer", answer_outcome)
    return None


def _authorised(
    *,
    customer: Customer,
    transaction_password: str,
    question_id: int | None = None,
    answer: str | None = None,
    ip: str | None,
    act: Callable[[], AuthorisedOutcome],
) -> AuthorisedOutcome:
    """``act`` behind the 確認用パスワード (and the 追加認証 answer when a question is
    given), in one transaction with the checks: nothing is done unless both pass."""
    with transaction.atomic():
        refused = _checks(
            customer=customer,
            transaction_password=transaction_password,
            question_id=question_id,
            answer=answer,
            ip=ip,
        )
        if refused is not None:
            return refused
        return act()


def token_issue_authorised(
    *,
    customer: Customer,
    email: str,
    activation_password: str,
    transaction_password: str,
    question_id: int,
    answer: str,
    ip: str | None,
) -> AuthorisedOutcome:
    """トークン発行（確認）→ 確定する: both checks, then ``token_issue``, in one transaction."""

    def act() -> AuthorisedOutcome:
        token = token_issue(
            customer=customer, email=email, activation_password=activation_password, ip=ip
        )
        return AuthorisedOutcome(token=token)

    return _authorised(
        customer=customer,
        transaction_password=transaction_password,
        question_id=question_id,
        answer=answer,
        ip=ip,
        act=act,
    )


def token_issue_authenticator_authorised(
    *,
    customer: Customer,
    transaction_password: str,
    question_id: int,
    answer: str,
    ip: str | None,
) -> AuthorisedOutcome:
    """The authenticator-app issue behind the same two checks as a token issue."""

    def act() -> AuthorisedOutcome:
        issue = token_issue_authenticator(customer=customer, ip=ip)
        return AuthorisedOutcome(token=issue.token, issue=issue)

    return _authorised(
        customer=customer,
        transaction_password=transaction_password,
        question_id=question_id,
        answer=answer,
        ip=ip,
        act=act,
    )


def token_cancel_authorised(
    *, customer: Customer, transaction_password: str, ip: str | None
) -> AuthorisedOutcome:
    """利用解除 behind the 確認用パスワード."""

    def act() -> AuthorisedOutcome:
        token_cancel(customer=customer, ip=ip)
        return AuthorisedOutcome()

    return _authorised(customer=customer, transaction_password=transaction_password, ip=ip, act=act)
