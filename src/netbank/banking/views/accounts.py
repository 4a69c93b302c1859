"""残高照会 and 入出金明細 (with CSV). Thin: reads go through selectors."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from netbank import clock
from netbank.banking.business_days import today_jst
from netbank.banking.conf import int_setting
from netbank.banking.forms import StatementFilterForm
from netbank.banking.limits import limit_view
from netbank.banking.models import Account, Posting
from netbank.banking.selectors import customer_account, customer_accounts, statement_postings
from netbank.banking.views.common import current_customer
from netbank.customers.decorators import customer_required

DEFAULT_PERIOD_DAYS = 30
CSV_HEADERS = ["日付", "時刻", "摘要", "お支払金額", "お預り金額", "差引残高"]
# A cell starting with one of these is a formula in spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@never_cache
@require_GET
@customer_required
def balance_view(request: HttpRequest) -> HttpResponse:
    """残高照会."""
    customer = current_customer(request)
    accounts = list(customer_accounts(customer))
    return render(
        request,
        "banking/balance.html",
        {
            "accounts": accounts,
            "total": sum(a.balance for a in accounts),
            "as_of": timezone.localtime(clock.now()),
            "limit": limit_view(customer),
        },
    )


def _account_or_404(request: HttpRequest, account_id: int) -> Account:
    account = customer_account(current_customer(request), account_id)
    if account is None:
        raise Http404
    return account


def _period(form: StatementFilterForm) -> tuple[date, date]:
    today = today_jst()
    start = end = None
    if form.is_valid():
        start = form.cleaned_data.get("date_from")
        end = form.cleaned_data.get("date_to")
    end = end or today
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS)
    return start, end


@never_cache
@require_GET
@customer_required
def statement_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """入出金明細 of one account: a period (default the last 30 days), 20 a page."""
    account = _account_or_404(request, account_id)
    form = StatementFilterForm(request.GET or None)
    start, end = _period(form)
    postings = statement_postings(account=account, date_from=start, date_to=end).order_by(
        "-posted_at", "-id"
    )
    page = Paginator(postings, int_setting("statement_page_size")).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query["date_from"] = start.isoformat()
    query["date_to"] = end.isoformat()
    return render(
        request,
        "banking/statement.html",
        {
            "account": account,
            "form": form,
            "page": page,
            "date_from": start,
            "date_to": end,
            "query": query.urlencode(),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def statement_csv(postings: list[Posting]) -> str:
    """The CSV text (UTF-8 with BOM added by the view): oldest first, Japanese headers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for p in postings:
        local = timezone.localtime(p.posted_at)
        writer.writerow(
            [
                local.strftime("%Y/%m/%d"),
                local.strftime("%H:%M"),
                _cell(p.memo),
                -p.amount if p.amount < 0 else "",
                p.amount if p.amount > 0 else "",
                p.balance_after,
            ]
        )
    return buffer.getvalue()


@never_cache
@require_GET
@customer_required
def statement_csv_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """入出金明細 as CSV (UTF-8 with BOM so spreadsheet programs read the Japanese)."""
    account = _account_or_404(request, account_id)
    form = StatementFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "banking/statement.html",
            {"account": account, "form": form, "page": None},
            status=400,
        )
    start, end = _period(form)
    limit = int_setting("statement_csv_max_rows")
    postings = list(
        statement_postings(account=account, date_from=start, date_to=end).order_by(
            "posted_at", "id"
        )[: limit + 1]
    )
    if len(postings) > limit:
        return render(
            request,
            "banking/statement.html",
            {
                "account": account,
                "form": form,
                "page": None,
                "csv_error": _(
                    "明細が多すぎます。期間を短くして、もう一度ダウンロードしてください。"
                ),
            },
            status=400,
        )
    body = "\ufeff" + statement_csv(postings)
    response = HttpResponse(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    filename = (
        f"meisai_{account.branch_code}-{account.account_number}_{start:%Y%m%d}-{end:%Y%m%d}.csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
