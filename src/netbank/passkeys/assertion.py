"""Passkey assertions: login and confirmation options, and ``authenticate``.

Keyword-only, one transaction each, audited. ``authenticate`` is a kind of credential
of the credential core (``netbank.credentials``): lock the passkey row, its challenge
and the customer's OTP lockout counter (passkey failures count with the OTP's, as
DESIGN says for the customer's credentials); refuse while locked, suspended or removed;
verify with py_webauthn (challenge, origin, rp id, user verification, signature) and the
sign counter; consume the challenge with a conditional UPDATE (of two requests with one
assertion exactly one wins); reset or count; audit ``passkey.accepted`` /
``passkey.refused`` with the reason.

A confirmation of a payment may come back as Secure Payment Confirmation's
``payment.get`` assertion (the browser's own dialog showed payee and amount), checked
in ``passkeys.payment``.

A confirmation's challenge is ``SHA-256("netbank-passkey-confirm/1\\0" ‖ random 32 ‖
SHA-256(operation))``: the caller gives the operation's canonical bytes both when it
asks for options and when it checks, so an assertion for one operation cannot confirm
another.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    verify_authentication_response,
)
from webauthn.helpers.structs import (
    UserVerificationRequirement,
)

from netbank import clock
from netbank.audit.services import record
from netbank.credentials import Verdict, credential_check
from netbank.customers import lockout
from netbank.customers.messages import lock_message
from netbank.customers.models import Customer
from netbank.customers.throttle import (
    LOGIN_WINDOW_SECONDS,
    client_key,
    login_throttle_hit,
    throttle_hit,
)
from netbank.passkeys import conf
from netbank.passkeys.common import (
    _INVALID_ASSERTION,
    _MALFORMED,
    MAX_RESPONSE_CHARS,
    TIMEOUT_MS,
    _as_dict,
    _credential_id,
    _descriptor,
    _new_challenge,
    _sent_challenge,
    b64url,
    b64url_decode,
    confirm_challenge,
)
from netbank.passkeys.credentials import (
    passkeys_of,
)
from netbank.passkeys.models import Passkey, PasskeyChallenge, PasskeyUser
from netbank.passkeys.payment import (
    PaymentDisplay,
    _client_data_type,
    _PaymentMismatchError,
    _verify_payment_assertion,
)


@dataclass(frozen=True)
class PasskeyOutcome:
    """The answer of ``authenticate``. ``reason`` is a fixed word for the trail and tests
    (``accepted``, ``locked``, ``suspended``, ``revoked``, ``unknown_credential``,
    ``wrong_customer``, ``no_challenge``, ``expired``, ``replayed``, ``invalid``,
    ``user_handle``, ``sign_count``, ``operation``, ``payment``, ``malformed``,
    ``throttled``);
    ``message`` what the customer sees."""

    accepted: bool
    reason: str
    customer: Customer | None = None
    passkey: Passkey | None = None
    message: str = ""
    locked: bool = False


# --- authentication -------------------------------------------------------------------


# Login options are asked for by every login page view (conditional UI): allowed more
# often than attempts, but each makes a row, so a client cannot make them without bound.
OPTIONS_PER_IP_PER_MINUTE = 60


def login_options_allowed(*, ip: str | None) -> bool:
    """Count one request for login options from ``ip``; False once over the limit."""
    return throttle_hit(
        scope="passkey_options",
        key=client_key(ip),
        limit=OPTIONS_PER_IP_PER_MINUTE,
        window_seconds=LOGIN_WINDOW_SECONDS,
    ).allowed


def login_options() -> dict[str, Any]:
    """Options for a login: discoverable (no allowCredentials), user verification."""
    with transaction.atomic():
        challenge = _new_challenge(purpose=PasskeyChallenge.Purpose.LOGIN, customer=None)
    options = generate_authentication_options(
        rp_id=conf.rp_id(),
        challenge=bytes(challenge.sent),
        timeout=TIMEOUT_MS,
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _as_dict(options)


def authentication_options(
    *,
    customer: Customer,
    purpose: str = "confirm",
    operation: bytes,
    payment: PaymentDisplay | None = None,
) -> dict[str, Any]:
    """Options for confirming ``operation`` (its canonical bytes) with one of the
    customer's passkeys; the challenge binds the operation's digest.

    For a payment (``payment``) and a customer with passkeys registered for payment,
    the options also carry ``spc``: what passkey_confirm.js gives the browser's Secure
    Payment Confirmation (the same challenge; those credentials; payee, instrument and
    total), where the browser offers it."""
    if purpose != PasskeyChallenge.Purpose.CONFIRM:
        raise ValueError("authentication_options is for confirmations; login_options logs in")
    with transaction.atomic():
        challenge = _new_challenge(purpose=purpose, customer=customer, operation=operation)
        record("passkey.confirm_options", customer_id=customer.pk, challenge_id=challenge.pk)
    options = generate_authentication_options(
        rp_id=conf.rp_id(),
        challenge=bytes(challenge.sent),
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(p) for p in passkeys_of(customer)],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    result = _as_dict(options)
    payment_ids = [b64url(bytes(p.credential_id)) for p in passkeys_of(customer) if p.payment]
    if payment is not None and payment_ids:
        result["spc"] = {
            "credentialIds": payment_ids,
            "payeeName": payment.payee_name,
            "instrument": {"displayName": payment.display_name, "icon": payment.icon},
            "total": {"currency": "JPY", "value": payment.total_value},
            "label": payment.total_label,
        }
    return result


def _refused_message() -> str:
    return _(
        "パスキーを確認できませんでした。もう一度お試しいただくか、"
        "ログインIDとパスワードでログインしてください。"
    )


def _suspended_message() -> str:
    return _(
        "現在、お客さまのお取引は停止されています。再開については、ヘルプデスクへご連絡ください。"
    )


def throttled_message() -> str:
    return _(
        "ログインの試行が多すぎるため、受付を一時的に制限しています。"
        "しばらくしてから、もう一度お試しください。"
    )


def _expired_message() -> str:
    return _("パスキーの確認の有効期限が切れました。お手数ですが、もう一度お試しください。")


def authenticate(
    *,
    response: dict[str, Any],
    purpose: str,
    customer: Customer | None = None,
    operation: bytes | None = None,
    payment: PaymentDisplay | None = None,
    ip: str | None,
) -> PasskeyOutcome:
    """Check an assertion (``navigator.credentials.get``'s answer as JSON, or Secure
    Payment Confirmation's ``payment.get`` one when ``payment`` says what the browser
    was asked to show; without ``payment`` a ``payment.get`` is refused).

    ``purpose`` "login" (any customer's passkey; per-IP throttled like the password
    login) or "confirm" (``customer``'s passkey, for ``operation``). See the module
    docstring for the sequence.
    """
    if purpose not in (PasskeyChallenge.Purpose.LOGIN, PasskeyChallenge.Purpose.CONFIRM):
        raise ValueError(f"unknown purpose {purpose!r}")
    if purpose == PasskeyChallenge.Purpose.CONFIRM and (customer is None or operation is None):
        raise ValueError("a confirmation names its customer and operation")
    if purpose == PasskeyChallenge.Purpose.LOGIN:
        throttle = login_throttle_hit(ip=ip)
        if not throttle.allowed:
            if throttle.first_refusal:
                record("login.throttled", ip=ip, channel="passkey", limit=throttle.limit)
            return PasskeyOutcome(False, "throttled", message=throttled_message())
    try:
        if not isinstance(response, dict) or len(json.dumps(response)) > MAX_RESPONSE_CHARS:
            raise ValueError("not a response")
        credential_id = _credential_id(response)
        sent = _sent_challenge(response)
    except _MALFORMED:
        # Not an assertion at all: nothing was checked (the throttle counted it).
        return PasskeyOutcome(False, "malformed", customer=customer, message=_refused_message())
    return credential_check(
        _AssertionCheck(
            response=response,
            credential_id=credential_id,
            sent=sent,
            purpose=purpose,
            customer=customer,
            operation=operation,
            payment=payment,
            ip=ip,
        )
    )


@dataclass(frozen=True)
class _Locked:
    passkey: Passkey | None
    challenge: PasskeyChallenge | None
    counter: lockout.CustomerLockout | None


@dataclass(frozen=True)
class _Proof:
    challenge: PasskeyChallenge
    passkey_id: int
    new_sign_count: int
    backed_up: bool


class _NoCounter:
    """No customer to count on (a credential no customer has): the per-IP throttle is
    what limits such attempts."""

    locked = False

    def reset(self) -> None:
        return None

    def count_failure(self) -> bool:
        return False


class _AssertionCheck:
    """A passkey assertion as a kind of credential (``netbank.credentials``)."""

    kind = "passkey"

    def __init__(
        self,
        *,
        response: dict[str, Any],
        credential_id: bytes,
        sent: bytes,
        purpose: str,
        customer: Customer | None,
        operation: bytes | None,
        payment: PaymentDisplay | None,
        ip: str | None,
    ) -> None:
        self.response = response
        self.credential_id = credential_id
        self.sent = sent
        self.purpose = purpose
        self.customer = customer
        self.operation = operation
        self.payment = payment
        # Which kind of assertion was verified, for the trail.
        self.kind = "webauthn.get"
        self.ip = ip
        self.now = clock.now()
        self.reason = "invalid"

    def lock(self) -> _Locked:
        # Passkey first, then its counter, then the challenge: every check of one
        # credential queues on its row, so a second request with the same assertion
        # sees the first one's consumed challenge and raised sign count.
        passkey = (
            Passkey.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(credential_id=self.credential_id)
            .first()
        )
        # A confirmation counts on the customer confirming, whoever's passkey it was.
        owner = self.customer if self.customer is not None else getattr(passkey, "customer", None)
        counter = None
        if owner is not None:
            subject = lockout.subject_for_customer(owner)
            status = lockout.lockout_acquire(kind=lockout.OTP, subject=subject)
            counter = lockout.CustomerLockout(
                kind=lockout.OTP, customer_id=owner.pk, status=status, customer=owner, ip=self.ip
            )
        challenge = PasskeyChallenge.objects.select_for_update().filter(sent=self.sent).first()
        return _Locked(passkey, challenge, counter)

    def counter(self, locked: _Locked) -> lockout.CustomerLockout | _NoCounter:
        return locked.counter if locked.counter is not None else _NoCounter()

    def _owner(self, locked: _Locked) -> Customer | None:
        if self.customer is not None:
            return self.customer
        return locked.passkey.customer if locked.passkey is not None else None

    def _audit(self, event: str, locked: _Locked, reason: str, **data: Any) -> None:
        owner = self._owner(locked)
        record(
            event,
            customer_id=owner.pk if owner is not None else None,
            ip=self.ip,
            purpose=self.purpose,
            reason=reason,
            passkey_id=locked.passkey.pk if locked.passkey is not None else None,
            challenge_id=locked.challenge.pk if locked.challenge is not None else None,
            **data,
        )

    def refuse_locked(self, locked: _Locked) -> PasskeyOutcome:
        self._audit("passkey.refused", locked, "locked")
        # Only a customer's counter is ever locked (_NoCounter never is).
        status = locked.counter.status if locked.counter is not None else lockout.LockStatus(True)
        return PasskeyOutcome(
            False,
            "locked",
            customer=self._owner(locked),
            passkey=locked.passkey,
            message=lock_message(lockout.OTP, permanent=status.permanent, until=status.until),
            locked=True,
        )

    def _settle(
        self, locked: _Locked, reason: str, message: str
    ) -> Verdict[_Proof, PasskeyOutcome]:
        self._audit("passkey.refused", locked, reason)
        return Verdict(
            settled=PasskeyOutcome(
                False, reason, customer=self._owner(locked), passkey=locked.passkey, message=message
            )
        )

    def verify(self, locked: _Locked) -> Verdict[_Proof, PasskeyOutcome]:
        passkey, challenge = locked.passkey, locked.challenge
        if passkey is None:
            if self.customer is None:
                # Nobody to count on: a credential of no customer (never registered, or
                # another bank's). Throttled per client before we got here.
                return self._settle(locked, "unknown_credential", _refused_message())
            self.reason = "unknown_credential"
            return Verdict()
        customer = passkey.customer
        if self.customer is not None and customer.pk != self.customer.pk:
            self.reason = "wrong_customer"
            return Verdict()
        if customer.status != Customer.Status.ACTIVE:
            return self._settle(locked, "suspended", _suspended_message())
        if passkey.revoked_at is not None:
            return self._settle(locked, "revoked", _refused_message())
        if (
            challenge is None
            or challenge.purpose != self.purpose
            or (challenge.customer_id is not None and challenge.customer_id != customer.pk)
        ):
            self.reason = "no_challenge"
            return Verdict()
        if challenge.used_at is not None:
            self.reason = "replayed"
            return Verdict()
        if challenge.expires_at <= self.now:
            # Not the presenter's fault: answered, not counted.
            return self._settle(locked, "expired", _expired_message())
        expected = bytes(challenge.sent)
        if self.purpose == PasskeyChallenge.Purpose.CONFIRM:
            operation = self.operation or b""
            digest = hashlib.sha256(operation).digest()
            rebuilt = confirm_challenge(bytes(challenge.challenge), operation)
            if not (
                challenge.operation_digest is not None
                and hmac.compare_digest(digest, bytes(challenge.operation_digest))
                and hmac.compare_digest(rebuilt, expected)
            ):
                # The assertion was made for another operation's challenge.
                self.reason = "operation"
                return Verdict()
            expected = rebuilt
        payment = None  # what the browser's SPC dialog was asked to show
        if _client_data_type(self.response) == "payment.get":
            self.kind = "payment.get"
            if self.payment is None:
                # SPC's assertion for what is no payment (登録先, 限度額, login): the
                # bank asked no browser to show anything, so nothing can match.
                self.reason = "payment"
                return Verdict()
            payment = self.payment
        try:
            verified: Any
            if payment is not None:
                verified = _verify_payment_assertion(
                    response=self.response,
                    expected_challenge=expected,
                    public_key=bytes(passkey.public_key),
                    payment=payment,
                )
            else:
                verified = verify_authentication_response(
                    credential=self.response,
                    expected_challenge=expected,
                    expected_rp_id=conf.rp_id(),
                    expected_origin=conf.origins(),
                    credential_public_key=bytes(passkey.public_key),
                    # The counter is compared below, after the signature: only a genuine
                    # assertion with a count that went back is the sign of a cloned key.
                    credential_current_sign_count=0,
                    require_user_verification=True,
                )
        except _INVALID_ASSERTION:
            self.reason = "invalid"
            return Verdict()
        except _PaymentMismatchError:
            self.reason = "payment"
            return Verdict()
        return self._counted(passkey, customer, challenge, verified)

    def _counted(
        self, passkey: Passkey, customer: Customer, challenge: PasskeyChallenge, verified: Any
    ) -> Verdict[_Proof, PasskeyOutcome]:
        """The checks after the signature, for either kind of assertion: user
        verification, the user handle, the sign counter."""
        if not verified.user_verified:
            self.reason = "invalid"
            return Verdict()
        user_handle = self.response.get("response", {}).get("userHandle")
        if user_handle:
            handle_owner = PasskeyUser.objects.filter(customer=customer).first()
            try:
                handle = b64url_decode(user_handle)
            except ValueError:
                handle = b""
            if handle_owner is None or not hmac.compare_digest(
                handle, bytes(handle_owner.user_handle)
            ):
                self.reason = "user_handle"
                return Verdict()
        stored = int(passkey.sign_count)
        new = int(verified.new_sign_count)
        if (new > 0 or stored > 0) and new <= stored:
            self.reason = "sign_count"
            return Verdict()
        return Verdict(
            passed=True,
            proof=_Proof(challenge, passkey.pk, new, bool(verified.credential_backed_up)),
        )

    def consume(self, locked: _Locked, proof: _Proof) -> bool:
        used = PasskeyChallenge.objects.filter(
            pk=proof.challenge.pk, used_at__isnull=True, expires_at__gt=self.now
        ).update(used_at=self.now)
        if not used:
            self.reason = "replayed"
            return False
        Passkey.objects.filter(pk=proof.passkey_id).update(
            sign_count=proof.new_sign_count,
            last_used_at=self.now,
            backup_state=proof.backed_up,
        )
        return True

    def accepted(self, locked: _Locked, proof: _Proof) -> PasskeyOutcome:
        self._audit("passkey.accepted", locked, "accepted", assertion=self.kind)
        passkey = Passkey.objects.select_related("customer").get(pk=proof.passkey_id)
        return PasskeyOutcome(True, "accepted", customer=passkey.customer, passkey=passkey)

    def rejected(
        self, locked: _Locked, verdict: Verdict[_Proof, PasskeyOutcome], *, now_locked: bool
    ) -> PasskeyOutcome:
        data: dict[str, Any] = {}
        if self.reason == "sign_count" and locked.passkey is not None:
            # Recorded for the helpdesk: two copies of one key exist somewhere.
            data["stored_sign_count"] = int(locked.passkey.sign_count)
        self._audit("passkey.refused", locked, self.reason, **data)
        owner = self._owner(locked)
        if now_locked and locked.counter is not None:
            status = lockout.lockout_status(kind=lockout.OTP, subject=locked.counter.subject)
            return PasskeyOutcome(
                False,
                self.reason,
                customer=owner,
                passkey=locked.passkey,
                message=lock_message(lockout.OTP, permanent=status.permanent, until=status.until),
                locked=True,
            )
        return PasskeyOutcome(
            False, self.reason, customer=owner, passkey=locked.passkey, message=_refused_message()
        )
