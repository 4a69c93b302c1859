"""登録先 (payees) and 振込限度額: 入力 → 確認 → 完了, signed where the rules ask."""

from __future__ import annotations

import contextlib
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from netbank.banking.confirmation import (
    METHOD_SIGNING,
    check_new_credential_hold,
    confirm_capability,
)
from netbank.banking.destination import Destination
from netbank.banking.errors import BankingError
from netbank.banking.forms import ConfirmForm, LimitForm, PayeeForm
from netbank.banking.limits import limit_change, limit_view, validate_new_limit
from netbank.banking.models import Payee, SigningChallenge
from netbank.banking.payees import (
    payee_delete,
    payee_destination,
    payee_register,
    payee_registration_check,
)
from netbank.banking.views.common import (
    LIMIT_DRAFT,
    PAYEE_DRAFT,
    confirm_method,
    current_customer,
    draft_challenge,
    draft_drop,
    draft_get,
    draft_put,
    message_page,
    method_switch,
    new_idempotency_key,
    passkey_for,
    payee_list_context,
    signed_confirm,
)
from netbank.customers.decorators import customer_required
from netbank.web.client_address import client_address

# --- 登録先 -------------------------------------------------------------------------


@never_cache
@require_GET
@customer_required
def payees_view(request: HttpRequest) -> HttpResponse:
    """登録先一覧."""
    context = payee_list_context(current_customer(request))
    context["done"] = request.GET.get("done")
    return render(request, "banking/payees.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def payee_add_view(request: HttpRequest) -> HttpResponse:
    """登録先の登録（入力）."""
    customer = current_customer(request)
    try:
        payee_registration_check(customer)
    except BankingError as exc:
        return message_page(
            request,
            title=_("登録先の登録"),
            message=exc.message,
            back_url=reverse("banking:payees"),
            back_label=_("登録先一覧へ"),
            status=403,
        )
    initial: dict[str, Any] = {}
    previous = draft_get(request, PAYEE_DRAFT) if request.GET.get("back") else None
    if previous is not None:
        initial = {**previous.get("destination", {}), "nickname": previous.get("nickname", "")}
    form = PayeeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                destination = payee_destination(
                    customer=customer,
                    destination=Destination(
                        bank_code=data["bank_code"],
                        branch_code=data["branch_code"],
                        account_type=data["account_type"],
                        account_number=data["account_number"],
                        name_kana=data["name_kana"],
                    ),
                )
            except BankingError as exc:
                form.add_error(None, str(exc.message))
            else:
                draft_put(
                    request,
                    PAYEE_DRAFT,
                    {
                        "destination": destination.as_dict(),
                        "nickname": data["nickname"],
                        "key": new_idempotency_key(),
                        "challenge_id": None,
                    },
                )
                return redirect("banking:payee_confirm")
    return render(request, "banking/payee_input.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def payee_confirm_view(request: HttpRequest) -> HttpResponse:
    """登録先の登録（確認）: 確認用パスワード and the 取引認証番号 over the account."""
    customer = current_customer(request)
    draft = draft_get(request, PAYEE_DRAFT)
    if draft is None:
        return redirect("banking:payees")
    if request.method == "POST" and request.POST.get("action") == "back":
        return redirect(reverse("banking:payee_add") + "?back=1")
    switched = method_switch(request, customer=customer, draft=draft, draft_name=PAYEE_DRAFT)
    if switched is not None:
        return switched
    method = confirm_method(customer, draft)
    try:
        destination = Destination.from_dict(draft["destination"])
        if method == METHOD_SIGNING:
            signing = draft_challenge(
                request,
                customer=customer,
                draft=draft,
                draft_name=PAYEE_DRAFT,
                purpose=SigningChallenge.Purpose.PAYEE,
                destination=destination,
            )
        else:
            payee_registration_check(customer)  # the hold, as the 取引認証 path checks it
            signing = {}
    except (KeyError, TypeError, ValueError):
        draft_drop(request, PAYEE_DRAFT)
        return redirect("banking:payees")
    except BankingError as exc:
        return message_page(
            request,
            title=_("登録先の登録（確認）"),
            message=exc.message,
            back_url=reverse("banking:payees"),
            back_label=_("登録先一覧へ"),
            status=409,
        )

    def act(form: ConfirmForm) -> HttpResponse:
        payee = payee_register(
            customer=customer,
            destination=destination,
            nickname=str(draft.get("nickname", "")),
            challenge_id=draft.get("challenge_id"),
            signing_code=form.cleaned_data.get("signing_code"),
            ip=client_address(request),
            draft_key=draft["key"],
            passkey_response=form.cleaned_data.get("passkey_response"),
        )
        return redirect("banking:payee_done", payee_id=payee.pk)

    return signed_confirm(
        request,
        customer=customer,
        draft=draft,
        draft_name=PAYEE_DRAFT,
        signing=True,
        act=act,
        template="banking/payee_confirm.html",
        context={
            "destination": destination,
            "nickname": draft.get("nickname", ""),
            "method": method,
            **signing,
        },
        passkey=passkey_for(
            method,
            customer=customer,
            draft=draft,
            purpose=SigningChallenge.Purpose.PAYEE,
            destination=destination,
        ),
    )


@never_cache
@require_GET
@customer_required
def payee_done_view(request: HttpRequest, payee_id: int) -> HttpResponse:
    """登録先の登録（完了）: the payee just registered (only the customer's own)."""
    payee = Payee.objects.filter(pk=payee_id, customer=current_customer(request)).first()
    if payee is None:
        raise Http404
    return render(request, "banking/payee_done.html", {"payee": payee})


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def payee_delete_view(request: HttpRequest, payee_id: int) -> HttpResponse:
    """登録先の削除（確認 → 完了）."""
    customer = current_customer(request)
    payee = Payee.objects.filter(pk=payee_id, customer=customer).first()
    if payee is None:
        raise Http404
    if request.method == "POST":
        # Deleted meanwhile in another tab: the list shows the truth either way.
        with contextlib.suppress(BankingError):
            payee_delete(customer=customer, payee_id=payee.pk, ip=client_address(request))
        return redirect(reverse("banking:payees") + "?done=deleted")
    return render(request, "banking/payee_delete.html", {"payee": payee})


# --- 振込限度額 ---------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def limit_edit_view(request: HttpRequest) -> HttpResponse:
    """振込限度額の変更（入力）."""
    customer = current_customer(request)
    view = limit_view(customer)
    capability = confirm_capability(customer)
    form = LimitForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            new_limit: int = form.cleaned_data["new_limit"]
            try:
                validate_new_limit(new_limit)
                if new_limit > view.daily_limit:
                    if not capability.can_sign:
                        raise BankingError(capability.reason)
                    check_new_credential_hold(customer)
            except BankingError as exc:
                form.add_error("new_limit", str(exc.message))
            else:
                draft_put(
                    request,
                    LIMIT_DRAFT,
                    {"new_limit": new_limit, "key": new_idempotency_key(), "challenge_id": None},
                )
                return redirect("banking:limit_confirm")
    return render(
        request,
        "banking/limit.html",
        {"form": form, "limit": view, "capability": capability, "done": request.GET.get("done")},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def limit_confirm_view(request: HttpRequest) -> HttpResponse:
    """振込限度額の変更（確認）: a raise also needs a 取引認証番号 over the new limit."""
    customer = current_customer(request)
    draft = draft_get(request, LIMIT_DRAFT)
    if draft is None or not isinstance(draft.get("new_limit"), int):
        return redirect("banking:limit")
    if request.method == "POST" and request.POST.get("action") == "back":
        return redirect("banking:limit")
    switched = method_switch(request, customer=customer, draft=draft, draft_name=LIMIT_DRAFT)
    if switched is not None:
        return switched
    new_limit: int = draft["new_limit"]
    current = limit_view(customer)
    raising = new_limit > current.daily_limit
    method = confirm_method(customer, draft) if raising else None
    context: dict[str, Any] = {
        "new_limit": new_limit,
        "limit": current,
        "raising": raising,
        "method": method,
    }
    if method == METHOD_SIGNING:
        try:
            signing = draft_challenge(
                request,
                customer=customer,
                draft=draft,
                draft_name=LIMIT_DRAFT,
                purpose=SigningChallenge.Purpose.LIMIT,
                amount=new_limit,
            )
        except BankingError as exc:
            return message_page(
                request,
                title=_("振込限度額の変更（確認）"),
                message=exc.message,
                back_url=reverse("banking:limit"),
                back_label=_("振込限度額の変更へ"),
                status=409,
            )
        context.update(signing)

    def act(form: ConfirmForm) -> HttpResponse:
        limit_change(
            customer=customer,
            new_limit=new_limit,
            challenge_id=draft.get("challenge_id"),
            signing_code=form.cleaned_data.get("signing_code"),
            ip=client_address(request),
            draft_key=draft["key"],
            passkey_response=form.cleaned_data.get("passkey_response"),
        )
        return redirect(reverse("banking:limit") + "?done=1")

    return signed_confirm(
        request,
        customer=customer,
        draft=draft,
        draft_name=LIMIT_DRAFT,
        signing=raising,
        act=act,
        template="banking/limit_confirm.html",
        context=context,
        passkey=passkey_for(
            method,
            customer=customer,
            draft=draft,
            purpose=SigningChallenge.Purpose.LIMIT,
            amount=new_limit,
        ),
    )
