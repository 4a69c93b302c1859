"""Passkey services: options, registration, the assertion check, rename and removal.

Keyword-only, one transaction each, audited. ``authenticate`` is a kind of credential
of the credential core (``netbank.credentials``): lock the passkey row, its challenge
and the customer's OTP lockout counter (passkey failures count with the OTP's, as
DESIGN says for the customer's credentials); refuse while locked, suspended or removed;
verify with py_webauthn (challenge, origin, rp id, user verification, signature) and the
sign counter; consume the challenge with a conditional UPDATE (of two requests with one
assertion exactly one wins); reset or count; audit ``passkey.accepted`` /
``passkey.refused`` with the reason.

A confirmation of a payment may come back as Secure Payment Confirmation's
``payment.get`` assertion (the browser's own dialog showed payee and amount), which
py_webauthn does not verify: ``_verify_payment_assertion`` checks it with py_webauthn's
own parsers and signature check, and also that the signed ``payment`` member says what
the bank asked the browser to show (payee, instrument, total).

A confirmation's challenge is ``SHA-256("netbank-passkey-confirm/1\\0" ‖ random 32 ‖
SHA-256(operation))``: the caller gives the operation's canonical bytes both when it
asks for options and when it checks, so an assertion for one operation cannot confirm
another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_backup_flags,
    parse_client_data_json,
    verify_signature,
)
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialType,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from netbank import clock
from netbank.audit.services import record
from netbank.credentials import Verdict, credential_check
from netbank.customers import lockout
from netbank.customers.login_policy import login_recovery_consume
from netbank.customers.messages import helpdesk_line, lock_message
from netbank.customers.models import Customer
from netbank.customers.throttle import (
    LOGIN_WINDOW_SECONDS,
    client_key,
    login_throttle_hit,
    throttle_hit,
)
from netbank.customers.validators import has_control_characters
from netbank.notifications.services import notice_enqueue
from netbank.otp.tokens.selectors import token_in_use
from netbank.passkeys import conf
from netbank.passkeys.models import NAME_MAX, Passkey, PasskeyChallenge, PasskeyUser

CHALLENGE_SECONDS = 300
# What the browser is told to wait (a hint); the server's own limit is CHALLENGE_SECONDS.
TIMEOUT_MS = 120_000
CONFIRM_PREFIX = b"netbank-passkey-confirm/1\0"
MAX_PASSKEYS = 10
# A response larger than this is not a WebAuthn response (the view's JSON reader also
# caps the body).
MAX_RESPONSE_CHARS = 16_384


# What py_webauthn and our own parsing raise for an answer that is no valid WebAuthn
# JSON; with the library's own refusal, what a refused registration or assertion raises.
_MALFORMED = (ValueError, InvalidJSONStructure, TypeError, KeyError)
_INVALID_REGISTRATION = (InvalidRegistrationResponse, *_MALFORMED)
_INVALID_ASSERTION = (InvalidAuthenticationResponse, *_MALFORMED)


class PasskeyError(ValueError):
    """A refused request (registration, rename, removal) with the message to show."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class PaymentDisplay:
    """What the browser's Secure Payment Confirmation dialog is asked to show for a
    payment, and what a ``payment.get`` assertion must then carry, signed: the payee's
    name, the instrument (the bank's words for payee and account) and the total in yen.
    ``icon`` is the bank's icon (a same-origin static URL)."""

    payee_name: str
    display_name: str
    amount_jpy: int
    icon: str = ""
    # The label of the total in the dialog (not part of the signed data).
    total_label: str = ""

    @property
    def total_value(self) -> str:
        return str(int(self.amount_jpy))


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


# --- helpers --------------------------------------------------------------------------


def b64url_decode(value: object) -> bytes:
    """base64url without padding, as WebAuthn's JSON carries bytes; ValueError if not."""
    if not isinstance(value, str) or len(value) > MAX_RESPONSE_CHARS:
        raise ValueError("not a base64url string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sent_challenge(response: dict[str, Any]) -> bytes:
    """The challenge the authenticator signed, read from the response's clientDataJSON."""
    inner = response.get("response")
    if not isinstance(inner, dict):
        raise ValueError("no response")
    client_data = parse_client_data_json(b64url_decode(inner.get("clientDataJSON")))
    return bytes(client_data.challenge)


def _credential_id(response: dict[str, Any]) -> bytes:
    raw = b64url_decode(response.get("rawId", response.get("id")))
    if not raw or len(raw) > 1023:
        raise ValueError("bad credential id")
    return raw


def confirm_challenge(random_part: bytes, operation: bytes) -> bytes:
    """The challenge a confirmation's assertion signs: bound to the operation."""
    return hashlib.sha256(
        CONFIRM_PREFIX + random_part + hashlib.sha256(operation).digest()
    ).digest()


def _new_challenge(
    *,
    purpose: str,
    customer: Customer | None,
    operation: bytes | None = None,
) -> PasskeyChallenge:
    now = clock.now()
    random_part = secrets.token_bytes(32)
    digest = None
    sent = random_part
    if operation is not None:
        digest = hashlib.sha256(operation).digest()
        sent = confirm_challenge(random_part, operation)
    return PasskeyChallenge.objects.create(
        challenge=random_part,
        sent=sent,
        purpose=purpose,
        customer=customer,
        operation_digest=digest,
        created_at=now,
        expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
    )


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in passkey.transports or []:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue  # a transport this library does not know: the browser finds it anyway
    return PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id), transports=transports)


def _as_dict(options: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def _masked_login_id(login_id: str) -> str:
    """What the browser's passkey list shows as the account: enough to recognise it,
    not the ID itself (a synced passkey's user name travels to the provider)."""
    if len(login_id) <= 4:
        return "*" * len(login_id)
    return login_id[:2] + "*" * (len(login_id) - 4) + login_id[-2:]


def passkey_user(customer: Customer) -> PasskeyUser:
    """The customer's user handle, made on first use (32 random bytes)."""
    user = PasskeyUser.objects.filter(customer=customer).first()
    if user is not None:
        return user
    with transaction.atomic():
        user, _created = PasskeyUser.objects.get_or_create(
            customer=customer,
            defaults={"user_handle": secrets.token_bytes(32), "created_at": clock.now()},
        )
    return user


def passkeys_of(customer: Customer) -> list[Passkey]:
    """The customer's passkeys in use, oldest first."""
    return list(
        Passkey.objects.filter(customer=customer, revoked_at__isnull=True).order_by(
            "created_at", "pk"
        )
    )


def passkey_required_for(customer: Customer) -> bool:
    """``NETBANK_PASSKEY_REQUIRED`` and the customer has a passkey: OTP alone is refused."""
    return (
        conf.passkey_required()
        and Passkey.objects.filter(customer=customer, revoked_at__isnull=True).exists()
    )


def registration_allowed(customer: Customer) -> bool:
    """Only a customer whose OTP is in use adds a passkey (the OTP confirms it)."""
    return customer.status == Customer.Status.ACTIVE and token_in_use(customer) is not None


def validate_name(raw: object) -> str:
    """A passkey's name: 1–30 characters, no control or invisible characters."""
    if not isinstance(raw, str) or not raw.strip():
        raise PasskeyError(_("パスキーの名前を入力してください。"), code="name")
    name = raw.strip()
    if len(name) > NAME_MAX:
        raise PasskeyError(
            _("パスキーの名前は%(max)s文字以内で入力してください。") % {"max": NAME_MAX},
            code="name",
        )
    if has_control_characters(name):
        raise PasskeyError(_("パスキーの名前に使用できない文字が含まれています。"), code="name")
    return name


# --- registration ---------------------------------------------------------------------


def registration_options(*, customer: Customer) -> dict[str, Any]:
    """Options for ``navigator.credentials.create``: a discoverable credential with user
    verification, attestation none, the customer's passkeys excluded."""
    if not registration_allowed(customer):
        raise PasskeyError(_not_allowed_message(), code="not_allowed")
    user = passkey_user(customer)
    with transaction.atomic():
        challenge = _new_challenge(purpose=PasskeyChallenge.Purpose.REGISTER, customer=customer)
        record("passkey.registration_options", customer_id=customer.pk, challenge_id=challenge.pk)
    options = generate_registration_options(
        rp_id=conf.rp_id(),
        rp_name=conf.rp_name(),
        user_id=bytes(user.user_handle),
        user_name=_masked_login_id(customer.login_id),
        user_display_name=customer.name_kanji,
        challenge=bytes(challenge.sent),
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(p) for p in passkeys_of(customer)],
    )
    return _as_dict(options)


def _not_allowed_message() -> str:
    return _(
        "パスキーは、ワンタイムパスワードをご利用中のお客さまが登録できます。"
        "「各種お申込・手続き」からワンタイムパスワードの利用を開始してください。"
    )


def _refused_registration() -> str:
    return _("パスキーを登録できませんでした。もう一度お試しください。")


def register(*, customer: Customer, response: dict[str, Any], name: str, ip: str | None) -> Passkey:
    """Verify the browser's ``create()`` answer and store the passkey.

    The view has checked the current OTP and the 確認用パスワード. The challenge must
    be this customer's registration challenge, unexpired and unused; it is consumed
    whatever the verification finds. Mails a notice; audit ``passkey.registered``.
    """
    name = validate_name(name)
    if not registration_allowed(customer):
        raise PasskeyError(_not_allowed_message(), code="not_allowed")
    now = clock.now()
    try:
        sent = _sent_challenge(response)
    except _MALFORMED:
        # Not a WebAuthn answer at all: nothing was checked, nothing to record.
        raise PasskeyError(_refused_registration(), code="malformed") from None
    # The challenge is consumed in a transaction of its own, whatever follows: an answer
    # is tried once.
    with transaction.atomic():
        consumed = PasskeyChallenge.objects.filter(
            sent=sent,
            purpose=PasskeyChallenge.Purpose.REGISTER,
            customer=customer,
            used_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
        if not consumed:
            record(
                "passkey.registration_refused", customer_id=customer.pk, ip=ip, reason="challenge"
            )
    if not consumed:
        raise PasskeyError(
            _("パスキーの登録の有効期限が切れました。お手数ですが、最初からやり直してください。"),
            code="challenge",
        )
    try:
        verified = verify_registration_response(
            credential=response,
            expected_challenge=sent,
            expected_rp_id=conf.rp_id(),
            expected_origin=conf.origins(),
            require_user_verification=True,
        )
    except _INVALID_REGISTRATION:
        with transaction.atomic():
            record("passkey.registration_refused", customer_id=customer.pk, ip=ip, reason="invalid")
        raise PasskeyError(_refused_registration(), code="invalid") from None
    with transaction.atomic():
        active = Passkey.objects.select_for_update().filter(
            customer=customer, revoked_at__isnull=True
        )
        if len(list(active)) >= MAX_PASSKEYS:
            raise PasskeyError(  # nothing was written in this transaction
                _("登録できるパスキーは%(max)s件までです。不要なパスキーを削除してください。")
                % {"max": MAX_PASSKEYS},
                code="too_many",
            )
        transports = response.get("response", {}).get("transports") or []
        # passkey.js says so when it asked for the payment extension on a browser that
        # offers SPC (see Passkey.payment for why that is what is recorded).
        payment = response.get("netbankPayment") is True
        try:
            with transaction.atomic():
                passkey = Passkey.objects.create(
                    customer=customer,
                    credential_id=verified.credential_id,
                    public_key=verified.credential_public_key,
                    sign_count=verified.sign_count,
                    aaguid=str(verified.aaguid)[:36],
                    transports=[str(t)[:20] for t in transports if isinstance(t, str)][:8],
                    backup_eligible=(
                        verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
                    ),
                    backup_state=bool(verified.credential_backed_up),
                    payment=payment,
                    name=name,
                    created_at=now,
                )
        except IntegrityError:
            # Another customer's (or a removed) credential: the id is unique for good.
            raise PasskeyError(
                _("このパスキーはすでに登録されています。"), code="duplicate"
            ) from None
        record(
            "passkey.registered",
            customer_id=customer.pk,
            ip=ip,
            passkey_id=passkey.pk,
            synced=passkey.backup_eligible,
        )
        _notice(
            customer=customer,
            subject=gettext_noop("パスキー登録のお知らせ"),
            what=gettext_noop("パスキーの登録（%(name)s）"),
            name=passkey.name,
            ip=ip,
            purpose="passkey_registered",
        )
    return passkey


def _notice(
    *, customer: Customer, subject: str, what: str, name: str, ip: str | None, purpose: str
) -> None:
    """The notice mail to the registered address, with the helpdesk's emergency number
    (the customers' change notice, in Japanese)."""
    from django.utils import translation

    with translation.override("ja"):
        subject_text = _(subject)
        what_text = _(what) % {"name": name}
    notice_enqueue(
        to=customer.email,
        subject=subject_text,
        template="customers/mail/change_notice.txt",
        context={"customer": customer, "what": what_text, "ip": ip, "at": clock.now()},
        purpose=purpose,
    )


# --- rename, remove, revoke -----------------------------------------------------------


def _own_passkey(customer: Customer, passkey_id: int) -> Passkey:
    passkey = (
        Passkey.objects.select_for_update()
        .filter(pk=passkey_id, customer=customer, revoked_at__isnull=True)
        .first()
    )
    if passkey is None:
        raise PasskeyError(_("このパスキーは登録されていません。"), code="not_found")
    return passkey


def rename(*, customer: Customer, passkey_id: int, name: str) -> Passkey:
    name = validate_name(name)
    with transaction.atomic():
        passkey = _own_passkey(customer, passkey_id)
        passkey.name = name
        passkey.save(update_fields=["name"])
        record("passkey.renamed", customer_id=customer.pk, passkey_id=passkey.pk)
    return passkey


def is_last(*, customer: Customer, passkey_id: int) -> bool:
    """Whether removing this passkey would leave the customer none."""
    return not (
        Passkey.objects.filter(customer=customer, revoked_at__isnull=True)
        .exclude(pk=passkey_id)
        .exists()
    )


def remove(*, customer: Customer, passkey_id: int, ip: str | None, otp_checked: bool) -> Passkey:
    """The customer removes a passkey. The last one only with the current OTP, checked
    by the view (``otp_checked``): a stolen session alone cannot take the customer's
    strongest credential away unnoticed. Mails a notice."""
    with transaction.atomic():
        # Lock every active passkey of the customer: two removals at once cannot both
        # think another one remains.
        active = list(
            Passkey.objects.select_for_update().filter(customer=customer, revoked_at__isnull=True)
        )
        passkey = next((p for p in active if p.pk == passkey_id), None)
        if passkey is None:
            raise PasskeyError(_("このパスキーは登録されていません。"), code="not_found")
        if len(active) == 1 and not otp_checked:
            raise PasskeyError(
                _("最後のパスキーを削除するには、ワンタイムパスワードを入力してください。"),
                code="otp_needed",
            )
        passkey.revoked_at = clock.now()
        passkey.revoked_by = "customer"
        passkey.save(update_fields=["revoked_at", "revoked_by"])
        record("passkey.removed", customer_id=customer.pk, ip=ip, passkey_id=passkey.pk)
        _notice(
            customer=customer,
            subject=gettext_noop("パスキー削除のお知らせ"),
            what=gettext_noop("パスキーの削除（%(name)s）"),
            name=passkey.name,
            ip=ip,
            purpose="passkey_removed",
        )
    return passkey


def revoke(*, operator: Any, passkey_id: int, reason: str) -> Passkey:
    """The helpdesk revokes a customer's passkey (``operator``: the console's auth user).
    Audited with the operator; the customer gets the removal notice."""
    with transaction.atomic():
        passkey = (
            Passkey.objects.select_for_update()
            .select_related("customer")
            .filter(pk=passkey_id, revoked_at__isnull=True)
            .first()
        )
        if passkey is None:
            raise PasskeyError(_("このパスキーは登録されていません。"), code="not_found")
        passkey.revoked_at = clock.now()
        passkey.revoked_by = f"operator:{operator.pk}"
        passkey.revoked_reason = str(reason)[:200]
        passkey.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        record(
            "passkey.revoked",
            customer_id=passkey.customer_id,
            operator_id=operator.pk,
            passkey_id=passkey.pk,
            reason=passkey.revoked_reason,
        )
        _notice(
            customer=passkey.customer,
            subject=gettext_noop("パスキー削除のお知らせ"),
            what=gettext_noop("ヘルプデスクによるパスキーの利用停止（%(name)s）"),
            name=passkey.name,
            ip=None,
            purpose="passkey_revoked",
        )
    return passkey


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


def challenges_purge(*, older_than_seconds: int = 3600) -> int:
    """Delete challenges that expired over ``older_than_seconds`` ago (housekeeping)."""
    before = clock.now() - timedelta(seconds=older_than_seconds)
    deleted, _rows = PasskeyChallenge.objects.filter(expires_at__lt=before).delete()
    return deleted


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


# --- Secure Payment Confirmation's payment.get ---------------------------------------


class _PaymentMismatchError(Exception):
    """A genuine payment.get whose signed payment data is not what the bank asked the
    browser to show (another payee, instrument or total)."""


@dataclass(frozen=True)
class _VerifiedPayment:
    new_sign_count: int
    credential_backed_up: bool
    user_verified: bool


def _client_data_type(response: dict[str, Any]) -> str:
    inner = response.get("response")
    if not isinstance(inner, dict):
        return ""
    try:
        return str(parse_client_data_json(b64url_decode(inner.get("clientDataJSON"))).type)
    except _MALFORMED:
        return ""


def _verify_payment_assertion(
    *,
    response: dict[str, Any],
    expected_challenge: bytes,
    public_key: bytes,
    payment: PaymentDisplay,
) -> _VerifiedPayment:
    """Verify SPC's ``payment.get`` assertion as py_webauthn verifies ``webauthn.get``
    (its parsers and signature check; the same challenge, origins, rp id hash, UP and
    UV), then its ``payment`` member against what the bank asked the browser to show:
    the rp id and top origin are the bank's, the payee name, the instrument's display
    name and the total (JPY, the amount executed) are equal, and no payee origin was
    shown (the bank names the payee, a person or company, never a website). The sign
    counter is the caller's, as for the other kind."""
    credential = parse_authentication_credential_json(response)
    if bytes_to_base64url(credential.raw_id) != credential.id:
        raise InvalidAuthenticationResponse("id and raw_id were not equivalent")
    if credential.type != PublicKeyCredentialType.PUBLIC_KEY:
        raise InvalidAuthenticationResponse("not a public-key credential")
    client_bytes = bytes(credential.response.client_data_json)
    auth_bytes = bytes(credential.response.authenticator_data)
    client_data = parse_client_data_json(client_bytes)
    if client_data.type != "payment.get":
        raise InvalidAuthenticationResponse("not a payment.get")
    if not hmac.compare_digest(bytes(client_data.challenge), expected_challenge):
        raise InvalidAuthenticationResponse("challenge")
    origins = conf.origins()
    if client_data.origin not in origins:
        raise InvalidAuthenticationResponse("origin")
    raw = json.loads(client_bytes)
    if raw.get("crossOrigin") is True:
        raise InvalidAuthenticationResponse("cross-origin")
    auth_data = parse_authenticator_data(auth_bytes)
    if not hmac.compare_digest(
        auth_data.rp_id_hash, hashlib.sha256(conf.rp_id().encode("utf-8")).digest()
    ):
        raise InvalidAuthenticationResponse("rp id hash")
    if not auth_data.flags.up or not auth_data.flags.uv:
        raise InvalidAuthenticationResponse("user presence and verification required")
    try:
        decoded = decode_credential_public_key(public_key)
        verify_signature(
            public_key=decoded_public_key_to_cryptography(decoded),
            signature_alg=decoded.alg,
            signature=bytes(credential.response.signature),
            data=auth_bytes + hashlib.sha256(client_bytes).digest(),
        )
    except InvalidSignature:
        raise InvalidAuthenticationResponse("signature") from None
    # Signed by the passkey: now what the browser showed.
    shown = raw.get("payment")
    if not isinstance(shown, dict):
        raise _PaymentMismatchError("no payment data")
    instrument = shown.get("instrument")
    checks = (
        shown.get("rpId") == conf.rp_id(),
        shown.get("topOrigin") in origins,
        shown.get("payeeName") == payment.payee_name,
        shown.get("payeeOrigin") is None,
        shown.get("total") == {"currency": "JPY", "value": payment.total_value},
        isinstance(instrument, dict) and instrument.get("displayName") == payment.display_name,
    )
    if not all(checks):
        raise _PaymentMismatchError("the payment shown is not the payment executed")
    flags = parse_backup_flags(auth_data.flags)
    return _VerifiedPayment(
        new_sign_count=int(auth_data.sign_count),
        credential_backed_up=bool(flags.credential_backed_up),
        user_verified=bool(auth_data.flags.uv),
    )


# --- NETBANK_PASSKEY_REQUIRED at the password login ------------------------------------


def passkey_login_gate(*, customer: Customer, channel: str, ip: str | None) -> str | None:
    """The login gate this app registers with ``customers.login_policy``: with
    ``NETBANK_PASSKEY_REQUIRED`` a customer who has a passkey may not log in with ID +
    password + OTP (web or Directログイン), unless the helpdesk granted one login
    (``login_recovery_consume``: single use). Runs after the password was accepted."""
    if not passkey_required_for(customer):
        return None
    if login_recovery_consume(customer=customer, ip=ip, channel=channel):
        return None
    record("login.refused_passkey_required", customer_id=customer.pk, ip=ip, channel=channel)
    return " ".join(
        (
            _(
                "パスキーを登録されているお客さまは、パスキーでログインしてください"
                "（ログイン画面の「パスキーでログイン」）。パスキーをご利用いただけない場合は、"
                "ヘルプデスクへご連絡ください。"
            ),
            helpdesk_line(),
        )
    )
