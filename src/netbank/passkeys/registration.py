"""Passkey registration: the customer's user handle, the options for
``navigator.credentials.create`` and the verification and storing of its answer
(behind the OTP and 確認用パスワード, checked by the view)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from webauthn import (
    generate_registration_options,
    verify_registration_response,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from netbank import clock
from netbank.audit.services import record
from netbank.customers.models import Customer
from netbank.otp.tokens.selectors import token_in_use
from netbank.passkeys import conf
from netbank.passkeys.common import (
    _INVALID_REGISTRATION,
    _MALFORMED,
    MAX_PASSKEYS,
    TIMEOUT_MS,
    PasskeyError,
    _as_dict,
    _descriptor,
    _new_challenge,
    _notice,
    _sent_challenge,
    validate_name,
)
from netbank.passkeys.credentials import (
    passkeys_of,
)
from netbank.passkeys.models import Passkey, PasskeyChallenge, PasskeyUser


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


def registration_allowed(customer: Customer) -> bool:
    """Only a customer whose OTP is in use adds a passkey (the OTP confirms it)."""
    return customer.status == Customer.Status.ACTIVE and token_in_use(customer) is not None


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
