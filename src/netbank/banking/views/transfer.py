"""振替・振込・振込予約: 入力 → 確認 → 完了. Thin: the rules live in banking.transfers.

The order is kept in the session between 入力 and 確認 with a random idempotency
key, which the 確認 form carries back: the same 確認 submitted twice (double click,
back button, a second tab, a replayed form) finds the finished transfer instead of
moving money again, and a 確認 page from an older 入力 can confirm nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from netbank.banking.business_days import is_business_day, today_jst
from netbank.banking.conf import int_setting
from netbank.banking.confirmation import METHOD_SIGNING
from netbank.banking.destination import Destination
from netbank.banking.errors import BankingError
from netbank.banking.forms import ConfirmForm, FurikaeForm, FurikomiForm
from netbank.banking.limits import limit_view
from netbank.banking.models import SigningChallenge, Transfer
from netbank.banking.selectors import customer_accounts, customer_payees, scheduled_transfers
from netbank.banking.transfers import (
    TransferOrder,
    furikae_order,
    furikomi_order,
    registered_payee,
    transfer_cancel,
    transfer_execute,
    transfer_requirements,
    transfer_schedule,
)
from netbank.banking.views.common import (
    TRANSFER_DRAFT,
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
from netbank.digits import parse_id
from netbank.web.client_address import client_address


def _business_days() -> list[date]:
    today = today_jst()
    days = []
    for offset in range(1, int_setting("schedule_max_days") + 1):
        day = today + timedelta(days=offset)
        if is_business_day(day):
            days.append(day)
    return days


def _start_draft(request: HttpRequest, order: TransferOrder) -> HttpResponse:
    draft_put(
        request,
        TRANSFER_DRAFT,
        {"order": order.as_dict(), "key": new_idempotency_key(), "challenge_id": None},
    )
    return redirect("banking:transfer_confirm")


def _draft_order(request: HttpRequest) -> tuple[dict[str, Any], TransferOrder] | None:
    draft = draft_get(request, TRANSFER_DRAFT)
    if draft is None:
        return None
    try:
        return draft, TransferOrder.from_dict(draft["order"])
    except (KeyError, TypeError, ValueError):
        draft_drop(request, TRANSFER_DRAFT)
        return None


# --- 振替 -------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def furikae_view(request: HttpRequest) -> HttpResponse:
    """振替（入力）."""
    customer = current_customer(request)
    accounts = list(customer_accounts(customer))
    if len(accounts) < 2:
        return message_page(
            request,
            title=_("振替"),
            message=_("振替には、2つ以上の口座が必要です。"),
            back_url=reverse("banking:balance"),
            back_label=_("残高照会へ"),
        )
    # Two different accounts to start with: the same one on both sides is always refused.
    initial: dict[str, Any] = {
        "from_account": str(accounts[0].pk),
        "to_account": str(accounts[1].pk),
    }
    previous = _draft_order(request) if request.GET.get("back") else None
    if previous is not None and previous[1].kind == Transfer.Kind.FURIKAE:
        order = previous[1]
        initial = {
            "from_account": str(order.from_account_id),
            "to_account": str(order.to_account_id),
            "amount": str(order.amount),
        }
    form = FurikaeForm(request.POST or None, accounts=accounts, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                order = furikae_order(
                    customer=customer,
                    from_account_id=int(form.cleaned_data["from_account"]),
                    to_account_id=int(form.cleaned_data["to_account"]),
                    amount=form.cleaned_data["amount"],
                )
            except BankingError as exc:
                form.add_error(None, str(exc.message))
            else:
                return _start_draft(request, order)
    return render(request, "banking/furikae_input.html", {"form": form}, status=status)


# --- 振込 -------------------------------------------------------------------------


@never_cache
@require_GET
@customer_required
def furikomi_view(request: HttpRequest) -> HttpResponse:
    """振込: choose a 登録先 or a new payee."""
    customer = current_customer(request)
    context = payee_list_context(customer)
    context["limit"] = limit_view(customer)
    context["signing_threshold"] = int_setting("signing_threshold")
    return render(request, "banking/furikomi_select.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def furikomi_input_view(request: HttpRequest) -> HttpResponse:
    """振込（入力）: to a 登録先 (``?payee=<id>``) or a new payee; now or 振込予約."""
    customer = current_customer(request)
    accounts = list(customer_accounts(customer))
    if not accounts:
        raise Http404
    payee = None
    payee_id = request.GET.get("payee")
    if payee_id:
        payee = customer_payees(customer).filter(pk=parse_id(payee_id) or 0).first()
        if payee is None:
            return redirect("banking:furikomi")
    initial: dict[str, Any] = {}
    previous = _draft_order(request) if request.GET.get("back") else None
    if previous is not None and previous[1].kind == Transfer.Kind.FURIKOMI:
        order = previous[1]
        initial = {
            "from_account": str(order.from_account_id),
            "amount": str(order.amount),
            "scheduled_for": order.scheduled_for.isoformat() if order.scheduled_for else "",
            **order.destination.as_dict(),
        }
        if payee is None:
            payee = registered_payee(customer, order.destination)
    form = FurikomiForm(
        request.POST or None,
        accounts=accounts,
        business_days=_business_days(),
        payee_fixed=payee is not None,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            destination = (
                Destination.of_payee(payee)
                if payee is not None
                else Destination(
                    bank_code=data["bank_code"],
                    branch_code=data["branch_code"],
                    account_type=data["account_type"],
                    account_number=data["account_number"],
                    name_kana=data["name_kana"],
                )
            )
            try:
                order = furikomi_order(
                    customer=customer,
                    from_account_id=int(data["from_account"]),
                    amount=data["amount"],
                    destination=destination,
                    scheduled_for=data["scheduled_for"],
                )
                transfer_requirements(customer=customer, order=order)
            except BankingError as exc:
                form.add_error(None, str(exc.message))
            else:
                return _start_draft(request, order)
    return render(
        request,
        "banking/furikomi_input.html",
        {"form": form, "payee": payee, "limit": limit_view(customer)},
        status=status,
    )


# --- 確認 and 完了 ------------------------------------------------------------------


def _confirm_title(order: TransferOrder) -> str:
    if order.kind == Transfer.Kind.FURIKAE:
        return _("振替（確認）")
    return _("振込予約（確認）") if order.scheduled_for else _("振込（確認）")


def _done_redirect(transfer: Transfer) -> HttpResponse:
    return redirect("banking:transfer_done", transfer_id=transfer.pk)


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def transfer_confirm_view(request: HttpRequest) -> HttpResponse:
    """振替・振込（確認）: 確認用パスワード on the software keyboard, and the
    取引認証番号 from the token app when the transfer needs one → 確定する."""
    customer = current_customer(request)
    posted_key = request.POST.get("idempotency_key", "") if request.method == "POST" else ""
    # Only a key this bank could have issued is looked up (a NUL byte, for one, is
    # refused by PostgreSQL itself); anything else falls through to the form's checks.
    if posted_key and len(posted_key) <= 100 and posted_key.isascii() and posted_key.isprintable():
        # Already done (a second tab, the back button, a double click): show the result.
        done = Transfer.objects.filter(customer=customer, idempotency_key=posted_key).first()
        if done is not None:
            draft_drop(request, TRANSFER_DRAFT)
            return _done_redirect(done)
    loaded = _draft_order(request)
    if loaded is None:
        return redirect("banking:furikomi")
    draft, order = loaded
    back_url = reverse(
        "banking:furikae" if order.kind == Transfer.Kind.FURIKAE else "banking:furikomi_input"
    )
    if request.method == "POST" and request.POST.get("action") == "back":
        return redirect(back_url + "?back=1")
    switched = method_switch(request, customer=customer, draft=draft, draft_name=TRANSFER_DRAFT)
    if switched is not None:
        return switched
    if request.method == "POST" and posted_key != draft["key"]:
        # A 確認 page from an older 入力: it must not confirm the current draft.
        return message_page(
            request,
            title=_confirm_title(order),
            message=_(
                "入力内容が変更されたため、この確認画面からはお手続きできません。最新の内容をご確認ください。"
            ),
            back_url=reverse("banking:transfer_confirm"),
            back_label=_("確認画面へ"),
            status=409,
        )
    try:
        requirements = transfer_requirements(customer=customer, order=order)
    except BankingError as exc:
        return message_page(
            request,
            title=_confirm_title(order),
            message=exc.message,
            back_url=back_url + "?back=1",
            back_label=_("入力画面へ戻る"),
            status=409,
        )
    context: dict[str, Any] = {
        "order": order,
        "title": _confirm_title(order),
        "requirements": requirements,
        "from_account": customer_accounts(customer).filter(pk=order.from_account_id).first(),
        "to_account": customer_accounts(customer).filter(pk=order.to_account_id).first()
        if order.to_account_id
        else None,
    }
    method = confirm_method(customer, draft) if requirements.signing else None
    context["method"] = method
    operation = {
        "destination": order.destination,
        "amount": order.amount,
        "debit_account": context["from_account"],
        "scheduled_for": order.scheduled_for,
    }
    if method == METHOD_SIGNING:
        try:
            signing = draft_challenge(
                request,
                customer=customer,
                draft=draft,
                draft_name=TRANSFER_DRAFT,
                purpose=SigningChallenge.Purpose.TRANSFER,
                **operation,
            )
        except BankingError as exc:
            return message_page(
                request,
                title=context["title"],
                message=exc.message,
                back_url=back_url,
                back_label=_("入力画面へ戻る"),
                status=409,
            )
        context.update(signing)

    def act(form: ConfirmForm) -> HttpResponse:
        submit = transfer_schedule if order.scheduled_for else transfer_execute
        result = submit(
            customer=customer,
            order=order,
            idempotency_key=draft["key"],
            challenge_id=draft.get("challenge_id"),
            signing_code=form.cleaned_data.get("signing_code"),
            passkey_response=form.cleaned_data.get("passkey_response"),
            ip=client_address(request),
        )
        return _done_redirect(result.transfer)

    return signed_confirm(
        request,
        customer=customer,
        draft=draft,
        draft_name=TRANSFER_DRAFT,
        signing=requirements.signing,
        act=act,
        template="banking/transfer_confirm.html",
        context=context,
        passkey=passkey_for(
            method,
            customer=customer,
            draft=draft,
            purpose=SigningChallenge.Purpose.TRANSFER,
            **operation,
        ),
    )


@never_cache
@require_GET
@customer_required
def transfer_done_view(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """振替・振込・振込予約（完了）, and the detail of any of the customer's transfers."""
    transfer = (
        Transfer.objects.select_related("from_account", "to_account")
        .filter(pk=transfer_id, customer=current_customer(request))
        .first()
    )
    if transfer is None:
        raise Http404
    return render(request, "banking/transfer_done.html", {"transfer": transfer})


# --- 振込予約の照会・取消 ------------------------------------------------------------


@never_cache
@require_GET
@customer_required
def scheduled_view(request: HttpRequest) -> HttpResponse:
    """振込予約の照会: the customer's scheduled transfers, cancellable until they run."""
    transfers = list(scheduled_transfers(current_customer(request))[:100])
    return render(request, "banking/scheduled.html", {"transfers": transfers})


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def scheduled_cancel_view(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """振込予約の取消（確認 → 完了）."""
    customer = current_customer(request)
    transfer = (
        Transfer.objects.select_related("from_account")
        .filter(pk=transfer_id, customer=customer, scheduled_for__isnull=False)
        .first()
    )
    if transfer is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            transfer_cancel(customer=customer, transfer_id=transfer.pk, ip=client_address(request))
        except BankingError as exc:
            error = str(exc.message)
        else:
            return redirect("banking:transfer_done", transfer_id=transfer.pk)
    return render(
        request,
        "banking/scheduled_cancel.html",
        {"transfer": transfer, "error": error},
        status=409 if error else 200,
    )
