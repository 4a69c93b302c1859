"""Mail notices of banking events, queued in the transaction that makes them true."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import ParamSpec

from django.utils import timezone, translation

from netbank.banking.models import Payee, Transfer
from netbank.customers.models import Customer
from netbank.notifications.services import notice_enqueue

P = ParamSpec("P")


def _in_japanese(notice: Callable[P, None]) -> Callable[P, None]:
    """Notices are Japanese whatever language the customer's screen is in: the rows and
    the subject are built here from model labels (振込/振替, 普通), so in Japanese too.
    A new override each call: one shared instance would keep its state across threads."""

    @functools.wraps(notice)
    def japanese(*args: P.args, **kwargs: P.kwargs) -> None:
        with translation.override("ja"):
            notice(*args, **kwargs)

    return japanese


def yen(amount: int) -> str:
    return f"{amount:,}円"


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y年%m月%d日 %H:%M")


def _day(day: date) -> str:
    return day.strftime("%Y年%m月%d日")


def _send(
    *, customer: Customer, subject: str, headline: str, rows: list[tuple[str, str]], purpose: str
) -> None:
    notice_enqueue(
        to=customer.email,
        subject=subject,
        template="banking/mail/notice.txt",
        context={"customer": customer, "headline": headline, "rows": rows},
        purpose=purpose,
    )


def _payee_rows(transfer: Transfer) -> list[tuple[str, str]]:
    if transfer.kind == Transfer.Kind.FURIKAE and transfer.to_account is not None:
        to = transfer.to_account
        return [
            ("振替先口座", f"{to.get_account_type_display()} {to.account_number}"),
        ]
    return [
        ("振込先", f"金融機関コード {transfer.bank_code} 支店コード {transfer.branch_code}"),
        ("口座", f"{transfer.get_account_type_display()} {transfer.account_number}"),
        ("受取人名", transfer.name_kana),
    ]


def _common_rows(transfer: Transfer) -> list[tuple[str, str]]:
    src = transfer.from_account
    return [
        ("受付番号", str(transfer.pk)),
        ("お取引", transfer.get_kind_display()),
        ("支払口座", f"{src.get_account_type_display()} {src.account_number}"),
        *_payee_rows(transfer),
        ("金額", yen(transfer.amount)),
    ]


@_in_japanese
def transfer_completed_notice(transfer: Transfer) -> None:
    kind = transfer.get_kind_display()
    rows = _common_rows(transfer)
    if transfer.executed_at is not None:
        rows.append(("実行日時", _when(transfer.executed_at)))
    _send(
        customer=transfer.customer,
        subject=f"{kind}受付のお知らせ",
        headline=f"以下の{kind}を受け付けました。",
        rows=rows,
        purpose="transfer_notice",
    )


@_in_japanese
def transfer_scheduled_notice(transfer: Transfer) -> None:
    rows = _common_rows(transfer)
    if transfer.scheduled_for is not None:
        rows.append(("振込指定日", _day(transfer.scheduled_for)))
    rows.append(("受付日時", _when(transfer.created_at)))
    _send(
        customer=transfer.customer,
        subject="振込予約受付のお知らせ",
        headline="以下の振込予約を受け付けました。指定日に実行します。",
        rows=rows,
        purpose="transfer_scheduled_notice",
    )


@_in_japanese
def transfer_cancelled_notice(transfer: Transfer) -> None:
    rows = _common_rows(transfer)
    if transfer.scheduled_for is not None:
        rows.append(("振込指定日", _day(transfer.scheduled_for)))
    if transfer.cancelled_at is not None:
        rows.append(("取消日時", _when(transfer.cancelled_at)))
    _send(
        customer=transfer.customer,
        subject="振込予約取消のお知らせ",
        headline="以下の振込予約を取り消しました。",
        rows=rows,
        purpose="transfer_cancelled_notice",
    )


@_in_japanese
def transfer_failed_notice(transfer: Transfer, reason: str) -> None:
    rows = _common_rows(transfer)
    if transfer.scheduled_for is not None:
        rows.append(("振込指定日", _day(transfer.scheduled_for)))
    rows.append(("理由", reason))
    _send(
        customer=transfer.customer,
        subject="振込予約不成立のお知らせ",
        headline="以下の振込予約は、実行できませんでした。お振込は行われていません。",
        rows=rows,
        purpose="transfer_failed_notice",
    )


@_in_japanese
def payee_notice(payee: Payee, *, registered: bool, at: datetime) -> None:
    verb = "登録" if registered else "削除"
    _send(
        customer=payee.customer,
        subject=f"登録先{verb}のお知らせ",
        headline=f"以下の振込先を登録先から{verb}しました。",
        rows=[
            ("振込先", f"金融機関コード {payee.bank_code} 支店コード {payee.branch_code}"),
            ("口座", f"{payee.get_account_type_display()} {payee.account_number}"),
            ("受取人名", payee.name_kana),
            (f"{verb}日時", _when(at)),
        ],
        purpose="payee_notice",
    )


@_in_japanese
def limit_notice(customer: Customer, *, old: int, new: int, at: datetime) -> None:
    _send(
        customer=customer,
        subject="振込限度額変更のお知らせ",
        headline="1日あたりの振込限度額を変更しました。",
        rows=[("変更前", yen(old)), ("変更後", yen(new)), ("変更日時", _when(at))],
        purpose="limit_notice",
    )
