"""Helpers shared by the banking views: the logged-in customer, drafts kept in the
session between 入力 and 確認, the 確認用パスワード check, and the signed 確認 flow
that 振替・振込, 登録先 and 振込限度額 share."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from netbank import clock
from netbank.banking.confirmation import (
    METHOD_PASSKEY,
    METHOD_SIGNING,
    confirm_capability,
    has_passkey,
    new_passkey_hold_until,
    passkey_options,
)
from netbank.banking.errors import BankingError, SigningRejectedError
from netbank.banking.forms import ConfirmForm
from netbank.banking.models import SigningChallenge
from netbank.banking.selectors import customer_payees
from netbank.banking.signing import (
    new_token_hold_until,
    signing_capability,
    signing_challenge,
)
from netbank.customers import lockout
from netbank.customers.confirm import confirm_page
from netbank.customers.models import Customer
from netbank.customers.services import transaction_password_check
from netbank.oath.txquestion import NONCE_DIGITS
from netbank.passkeys.services import passkey_required_for
from netbank.web.client_address import client_address

TRANSFER_DRAFT = "banking.transfer_draft"
PAYEE_DRAFT = "banking.payee_draft"
LIMIT_DRAFT = "banking.limit_draft"


def current_customer(request: HttpRequest) -> Customer:
    customer: Customer = request.customer  # type: ignore[attr-defined]
    return customer


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(32)


def draft_get(request: HttpRequest, name: str) -> dict[str, Any] | None:
    draft = request.session.get(name)
    return draft if isinstance(draft, dict) else None


def draft_put(request: HttpRequest, name: str, draft: dict[str, Any]) -> None:
    request.session[name] = draft


def draft_drop(request: HttpRequest, name: str) -> None:
    request.session.pop(name, None)


def message_page(
    request: HttpRequest,
    *,
    title: str | Promise,
    message: str | Promise,
    back_url: str,
    back_label: str | Promise,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "banking/message.html",
        {"title": title, "message": message, "back_url": back_url, "back_label": back_label},
        status=status,
    )


def check_transaction_password(
    request: HttpRequest, customer: Customer, password: str
) -> str | None:
    """None when the 確認用パスワード is right; else the message (the failure is counted)."""
    outcome = transaction_password_check(
        customer=customer, password=password, ip=client_address(request)
    )
    if outcome.ok:
        return None
    return str(outcome.message)


def payee_list_context(customer: Customer) -> dict[str, Any]:
    """The 登録先 list with what the customer may do with it: whether they can confirm
    a new payee (the token app's 取引認証番号 or a passkey) and, after a token issue or a
    passkey registration, until when new payees wait."""
    capability = confirm_capability(customer)
    return {
        "payees": list(customer_payees(customer)),
        "capability": capability,
        "hold_until": new_token_hold_until(customer) if capability.can_sign else None,
        "passkey_hold_until": new_passkey_hold_until(customer) if capability.passkey else None,
    }


def signing_fallback_allowed(customer: Customer) -> bool:
    """A customer with a passkey may still confirm with the token app's 取引認証番号
    (a PC without the passkey, say), unless NETBANK_PASSKEY_REQUIRED forbids it."""
    return signing_capability(customer).can_sign and not passkey_required_for(customer)


def confirm_method(customer: Customer, draft: dict[str, Any]) -> str:
    """How this 確認 screen asks for the confirmation: the passkey where the customer has
    one, unless they chose the 取引認証番号 (and may); else the 取引認証番号."""
    capability = confirm_capability(customer)
    if (
        capability.passkey
        and draft.get("method") == METHOD_SIGNING
        and signing_fallback_allowed(customer)
    ):
        return METHOD_SIGNING
    return capability.method or METHOD_SIGNING


def method_switch(
    request: HttpRequest, *, customer: Customer, draft: dict[str, Any], draft_name: str
) -> HttpResponse | None:
    """The 確認 screen's 「取引認証番号で確認する」/「パスキーで確認する」 buttons: remember
    the choice in the draft and show the screen again (a refused choice changes nothing)."""
    if request.method != "POST":
        return None
    action = request.POST.get("action")
    if action == "use_signing" and signing_fallback_allowed(customer):
        draft["method"] = METHOD_SIGNING
    elif action == "use_passkey":
        draft["method"] = METHOD_PASSKEY
    else:
        return None
    draft_put(request, draft_name, draft)
    return redirect(request.path)


def passkey_context(
    *, customer: Customer, draft: dict[str, Any], purpose: str, **operation: Any
) -> dict[str, Any]:
    """What the 確認 screen needs for the passkey: the WebAuthn request options for
    exactly this operation and draft (a fresh challenge each time the screen is shown),
    as JSON for passkey_confirm.js, and whether the 取引認証番号 may be used instead."""
    options = passkey_options(
        customer=customer, purpose=purpose, draft_key=draft["key"], **operation
    )
    return {
        "passkey_options": json.dumps(options, separators=(",", ":")),
        "signing_fallback": signing_fallback_allowed(customer),
    }


def passkey_for(
    method: str | None, *, customer: Customer, draft: dict[str, Any], purpose: str, **operation: Any
) -> Callable[[], dict[str, Any]] | None:
    """``signed_confirm``'s ``passkey`` for a 確認 screen: the passkey's context for the
    operation when the customer confirms with a passkey (``method``), else None."""
    if method != METHOD_PASSKEY:
        return None
    return lambda: passkey_context(customer=customer, draft=draft, purpose=purpose, **operation)


def confirm_ready(
    request: HttpRequest, customer: Customer, form: Any, draft: dict[str, Any]
) -> bool:
    """True when the posted 確認 form is valid, belongs to the draft on screen (its
    idempotency key) and carries the right 確認用パスワード. Otherwise the reason is on
    the form; a wrong password has been counted toward its lockout."""
    if not form.is_valid():
        return False
    if form.cleaned_data["idempotency_key"] != draft["key"]:
        form.add_error(None, _("入力内容が変更されました。最新の内容をご確認ください。"))
        return False
    problem = check_transaction_password(
        request, customer, form.cleaned_data["transaction_password"]
    )
    if problem is not None:
        form.add_error("transaction_password", problem)
        return False
    return True


def fresh_challenge(
    *,
    customer: Customer,
    draft: dict[str, Any],
    purpose: str,
    **operation: Any,
) -> SigningChallenge:
    """The draft's challenge if still usable, else a new one (kept in the draft)."""
    challenge_id = draft.get("challenge_id")
    if challenge_id is not None:
        existing = SigningChallenge.objects.filter(
            pk=challenge_id,
            customer=customer,
            purpose=purpose,
            used_at__isnull=True,
            expires_at__gt=clock.now(),
        ).first()
        if existing is not None:
            return existing
    challenge = signing_challenge(customer=customer, purpose=purpose, **operation)
    draft["challenge_id"] = challenge.pk
    return challenge


def signing_context(challenge: SigningChallenge) -> dict[str, Any]:
    question = challenge.challenge
    return {
        "challenge": challenge,
        "nonce": question[-NONCE_DIGITS:],
        "question_groups": [question[i : i + 4] for i in range(0, len(question), 4)],
    }


def draft_challenge(
    request: HttpRequest,
    *,
    customer: Customer,
    draft: dict[str, Any],
    draft_name: str,
    purpose: str,
    **operation: Any,
) -> dict[str, Any]:
    """The 取引認証 question for the draft on a 確認 screen (the draft's own while it is
    usable, else a new one remembered in the draft), as the template shows it. Raises
    BankingError when no question can be asked (the caller shows why)."""
    challenge = fresh_challenge(customer=customer, draft=draft, purpose=purpose, **operation)
    draft_put(request, draft_name, draft)
    # A customer with a passkey who chose the 取引認証番号 may go back to the passkey.
    return {**signing_context(challenge), "passkey_available": has_passkey(customer)}


def signed_confirm(
    request: HttpRequest,
    *,
    customer: Customer,
    draft: dict[str, Any],
    draft_name: str,
    signing: bool,
    act: Callable[[ConfirmForm], HttpResponse],
    template: str,
    context: dict[str, Any],
    passkey: Callable[[], dict[str, Any]] | None = None,
) -> HttpResponse:
    """A 確認 screen and its 確定する: on a POST whose form is valid, belongs to the
    draft and carries the right 確認用パスワード, ``act(form)`` does the operation (with
    the 取引認証番号 when ``signing``) and answers the redirect to 完了; the draft is then
    dropped. A refused code or operation is shown on the form (400); a locked 確認用パスワード
    disables it. With ``passkey`` (the customer confirms with a passkey) the form carries
    the assertion instead of the 取引認証番号, and ``passkey()`` gives the screen its
    request options."""
    form = ConfirmForm(
        request.POST if request.method == "POST" else None,
        signing=signing,
        passkey=signing and passkey is not None,
        initial={"idempotency_key": draft["key"]},
    )

    def submit() -> HttpResponse | None:
        if not confirm_ready(request, customer, form, draft):
            return None
        try:
            done = act(form)
        except SigningRejectedError as exc:
            form.add_error("signing_code" if form.signing else None, str(exc.message))
        except BankingError as exc:
            form.add_error(None, str(exc.message))
        else:
            draft_drop(request, draft_name)
            return done
        return None

    return confirm_page(
        request,
        customer=customer,
        form=form,
        act=submit,
        locks=(lockout.TRANSACTION_PASSWORD,),
        page=lambda status: render(
            request,
            template,
            # The passkey's options (a new challenge) only for a screen actually shown.
            {**context, **(passkey() if passkey is not None else {}), "form": form},
            status=status,
        ),
    )
