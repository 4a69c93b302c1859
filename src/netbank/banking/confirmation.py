"""How the operations that need 取引認証 are confirmed: a passkey or the 取引認証番号.

Where the customer has an active passkey, the operations that need 取引認証 (a 振込 to
a new payee or above the signing threshold, a 登録先, a 振込限度額 raise) are confirmed
with a WebAuthn assertion whose challenge is bound to the operation:

- the operation's **canonical form** is exactly what the 取引認証 question binds
  (``signing.build_question``: purpose, payee bank/branch/科目/account, amount or new
  limit, the account paid from, the 振込予約 date), without the question's nonce, plus
  the draft's id (its idempotency key, kept in the session and carried by the 確認
  form): ``"netbank-passkey-operation/1\\0" ‖ question[:46] ‖ "\\0" ‖ draft key``;
- its SHA-256 is the ``operation`` given to ``passkeys.services.authentication_options``
  when the 確認 page is shown, and given again to ``passkeys.services.authenticate``
  when the operation is executed, **rebuilt from the bank's own record** (the session's
  order, the customer's own account row), never from anything the browser sends. The
  challenge is derived from it, so an assertion made for one operation does not verify
  for any other (another payee, amount, debit account, date or draft).

For a 振込 the bank also says what the browser's Secure Payment Confirmation dialog is
to show (``payment_display``: payee, the payee's account in words, the amount), rebuilt
the same way at execution: where the browser used it, the signed ``payment.get`` must
carry exactly that, so the browser displayed what the bank executes. Elsewhere (登録先,
限度額, or a browser without SPC) the page shows the operation and the challenge binds it.

Failures count on the passkey's own counter (``passkeys``: the customer's credential
failures), not on the 取引認証番号 lockout. The 24-hour hold after a token issue holds
here too, and so does one after a passkey registration: a phisher who relayed the OTP
and the 確認用パスワード to register their own passkey cannot pay a new payee with it
before the customer has read the registration notice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.templatetags.static import static
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from netbank import clock
from netbank.audit.services import record
from netbank.banking.conf import int_setting
from netbank.banking.destination import Destination
from netbank.banking.errors import (
    NewTokenHoldError,
    SigningRejectedError,
    SigningRequiredError,
)
from netbank.banking.models import SigningChallenge
from netbank.banking.signing import (
    LOCKED_MESSAGE,
    DebitAccount,
    SigningOutcome,
    build_question,
    check_new_token_hold,
    signing_capability,
    signing_locked,
    signing_verify,
)
from netbank.customers.models import Customer
from netbank.oath.txquestion import NONCE_DIGITS
from netbank.passkeys import services as passkeys
from netbank.web.moments import end_time_text

OPERATION_DOMAIN = b"netbank-passkey-operation/1\0"
# The nonce field of the question is the bank's per-challenge random; the passkey
# challenge carries its own, so the canonical form leaves it out.
_NO_NONCE = "0" * NONCE_DIGITS

METHOD_PASSKEY = "passkey"
METHOD_SIGNING = "signing"

WRONG_MESSAGE = _(
    "パスキーによる確認ができませんでした。画面に表示されたお取引の内容をご確認のうえ、"
    "もう一度「パスキーで確認して確定する」を押してください。"
)
MISSING_MESSAGE = _(
    "パスキーによる確認が必要です。「パスキーで確認して確定する」ボタンを押し、"
    "お使いの端末で確認してください（JavaScriptを有効にしてください）。"
)
SIGNING_REFUSED_MESSAGE = _(
    "パスキーを登録されているお客さまは、取引認証番号ではなくパスキーでお取引を確認してください。"
    "パスキーをご利用いただけない場合は、ヘルプデスクへご連絡ください。"
)


@dataclass(frozen=True)
class ConfirmCapability:
    """How the customer confirms the operations that need 取引認証, and if they cannot,
    why. ``can_sign`` keeps the name the screens use for "can confirm"."""

    method: str | None
    reason: str | Promise = ""

    @property
    def can_sign(self) -> bool:
        return self.method is not None

    @property
    def passkey(self) -> bool:
        return self.method == METHOD_PASSKEY


def has_passkey(customer: Customer) -> bool:
    return bool(passkeys.passkeys_of(customer))


def confirm_capability(customer: Customer) -> ConfirmCapability:
    """A customer with an active passkey confirms with it (instead of the 取引認証番号);
    otherwise the bank's token app signs, if the customer has it in use."""
    if has_passkey(customer):
        return ConfirmCapability(METHOD_PASSKEY)
    capability = signing_capability(customer)
    if capability.can_sign:
        return ConfirmCapability(METHOD_SIGNING)
    return ConfirmCapability(None, capability.reason)


def refuse_signing_if_passkey_required(customer: Customer) -> None:
    """With NETBANK_PASSKEY_REQUIRED, a customer who has a passkey is never confirmed by
    a 取引認証番号 (whatever a form or a stale draft asks for)."""
    if passkeys.passkey_required_for(customer):
        raise SigningRequiredError(SIGNING_REFUSED_MESSAGE)


def new_passkey_hold_until(customer: Customer) -> datetime | None:
    """When the hold after the newest passkey registration ends, if it has not yet."""
    newest = max((p.created_at for p in passkeys.passkeys_of(customer)), default=None)
    if newest is None:
        return None
    until = newest + timedelta(seconds=int_setting("new_token_hold_seconds"))
    return until if until > clock.now() else None


def check_new_passkey_hold(customer: Customer) -> None:
    until = new_passkey_hold_until(customer)
    if until is not None:
        raise NewTokenHoldError(
            _(
                "パスキーの登録から24時間は、新しい振込先への振込、登録先の登録、"
                "振込限度額の引き上げをお受けできません（%(until)s 以降にご利用いただけます）。"
                "お心当たりのないパスキーの登録があった場合は、ただちにヘルプデスクへご連絡ください。"
            )
            % {"until": end_time_text(until)}
        )


def operation_canonical(
    *,
    purpose: str,
    draft_key: str,
    destination: Destination | None = None,
    amount: int | None = None,
    debit_account: DebitAccount | None = None,
    scheduled_for: date | None = None,
) -> bytes:
    """The operation's canonical form (see the module docstring). Raises ValueError for
    an operation the 取引認証 question could not describe either."""
    if not draft_key or not draft_key.isascii() or "\0" in draft_key:
        raise ValueError("an operation needs its draft's key")
    question = build_question(
        purpose=purpose,
        nonce=_NO_NONCE,
        destination=destination,
        amount=amount,
        debit_account=debit_account,
        scheduled_for=scheduled_for,
    )
    return (
        OPERATION_DOMAIN
        + question[:-NONCE_DIGITS].encode("ascii")
        + b"\0"
        + draft_key.encode("ascii")
    )


def operation_digest(**operation: Any) -> bytes:
    """SHA-256 of the canonical form: the ``operation`` the passkey services bind."""
    return hashlib.sha256(operation_canonical(**operation)).digest()


# The bank's icon in the browser's payment dialog (same origin, from static).
PAYMENT_ICON = "netbank/favicon.svg"


def payment_display(
    *,
    purpose: str,
    destination: Destination | None = None,
    amount: int | None = None,
    debit_account: DebitAccount | None = None,
    scheduled_for: date | None = None,
    **_rest: Any,
) -> passkeys.PaymentDisplay | None:
    """What Secure Payment Confirmation shows for a 振込 (None for anything else): the
    payee's name, the payee's account and the account paid from in words, the amount.
    A pure function of the operation, so the bank rebuilds it at execution."""
    if purpose != SigningChallenge.Purpose.TRANSFER or destination is None or amount is None:
        return None
    words = (
        f"振込先 {destination.name_kana}"
        f"（金融機関 {destination.bank_code} 支店 {destination.branch_code}"
        f" {destination.account_type_label} {destination.account_number}）"
    )
    if debit_account is not None:
        words += f" お支払口座 {debit_account.branch_code}-{debit_account.account_number}"
    if scheduled_for is not None:
        words += f" 振込指定日 {scheduled_for.isoformat()}"
    return passkeys.PaymentDisplay(
        payee_name=destination.name_kana,
        display_name=words,
        amount_jpy=int(amount),
        icon=static(PAYMENT_ICON),
        total_label=str(_("振込金額")),
    )


def passkey_options(*, customer: Customer, **operation: Any) -> dict[str, Any]:
    """The WebAuthn request options for this operation (the 確認 page's button), with
    what the browser's payment dialog shows for a 振込."""
    return passkeys.authentication_options(
        customer=customer,
        purpose="confirm",
        operation=operation_digest(**operation),
        payment=payment_display(**operation),
    )


def passkey_verify(
    *,
    customer: Customer,
    response: dict[str, Any] | None,
    purpose: str,
    ip: str | None,
    **operation: Any,
) -> SigningOutcome:
    """Check an assertion for exactly this operation (rebuilt by the caller from its
    own record). Runs inside the caller's transaction, after the customer row lock;
    a refusal is counted by the passkey service and committed with the caller's
    transaction (the caller raises only after it)."""
    if not isinstance(response, dict) or not response:
        return SigningOutcome(False, message=MISSING_MESSAGE)
    try:
        digest = operation_digest(purpose=purpose, **operation)
    except ValueError:
        return SigningOutcome(False, message=WRONG_MESSAGE)
    outcome = passkeys.authenticate(
        response=response,
        purpose="confirm",
        customer=customer,
        operation=digest,
        payment=payment_display(purpose=purpose, **operation),
        ip=ip,
    )
    record(
        "banking.passkey.accepted" if outcome.accepted else "banking.passkey.rejected",
        customer_id=customer.pk,
        ip=ip,
        purpose=purpose,
        passkey_id=outcome.passkey.pk if outcome.passkey is not None else None,
        reason=None if outcome.accepted else str(outcome.reason),
    )
    if outcome.accepted:
        return SigningOutcome(True)
    if outcome.locked or outcome.reason in ("suspended", "expired"):
        # Not a mismatch: the lock (with the helpdesk), the suspension or the expiry.
        return SigningOutcome(False, locked=outcome.locked, message=outcome.message)
    return SigningOutcome(False, message=WRONG_MESSAGE)


def check_new_credential_hold(customer: Customer) -> None:
    """Refuse (NewTokenHoldError) within the hold after a token issue or a passkey
    registration: new payees, 登録先 and limit raises wait for both."""
    check_new_token_hold(customer)
    check_new_passkey_hold(customer)


def confirmation_check(customer: Customer, *, hold: bool = True) -> ConfirmCapability:
    """Refuse before any input what the customer cannot confirm now (no way to confirm,
    the hold when ``hold``, a locked 取引認証番号 when that is the way); else how."""
    capability = confirm_capability(customer)
    if not capability.can_sign:
        raise SigningRequiredError(capability.reason)
    if hold:
        check_new_credential_hold(customer)
    if capability.method == METHOD_SIGNING and signing_locked(customer):
        raise SigningRejectedError(LOCKED_MESSAGE, code="signing_locked")
    return capability


def confirm_operation(
    *,
    customer: Customer,
    purpose: str,
    draft_key: str,
    challenge_id: int | None,
    signing_code: str | None,
    passkey_response: dict[str, Any] | None,
    ip: str | None,
    **operation: Any,
) -> SigningOutcome:
    """Confirm one operation, inside the caller's transaction (customer row locked): an
    assertion when one is presented (the customer's passkey, bound to the operation), else
    the 取引認証番号, which NETBANK_PASSKEY_REQUIRED refuses for a customer with a passkey.
    ``operation`` is rebuilt by the caller from its own record."""
    if passkey_response:
        if not has_passkey(customer):
            return SigningOutcome(False, message=WRONG_MESSAGE)
        return passkey_verify(
            customer=customer,
            response=passkey_response,
            purpose=purpose,
            ip=ip,
            draft_key=draft_key,
            **operation,
        )
    if challenge_id is None or not signing_code:
        raise SigningRequiredError(
            MISSING_MESSAGE if has_passkey(customer) else _("取引認証番号を入力してください。")
        )
    refuse_signing_if_passkey_required(customer)
    capability = signing_capability(customer)
    if not capability.can_sign:
        raise SigningRequiredError(capability.reason)
    return signing_verify(
        customer=customer,
        challenge_id=challenge_id,
        purpose=purpose,
        code=signing_code,
        ip=ip,
        **operation,
    )
