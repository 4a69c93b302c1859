"""振替 and 振込, immediate or scheduled (振込予約), and the scheduler's run.

Every path that moves money takes the customer's row lock first (so a helpdesk
suspension, which takes the same lock, can never be overtaken by a transfer in
flight), then the idempotency check, then the account rows in primary-key order
inside ledger_post. A transfer is one transaction with its audit row and its
outbox mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from netbank import clock
from netbank.audit.services import record
from netbank.banking import notices
from netbank.banking.business_days import is_business_day, today_jst
from netbank.banking.conf import banking_setting, int_setting
from netbank.banking.confirmation import METHOD_SIGNING, confirm_operation, confirmation_check
from netbank.banking.destination import Destination, destination_named
from netbank.banking.errors import (
    BankingError,
    CustomerNotActiveError,
    InsufficientFundsError,
    LimitExceededError,
    SigningRejectedError,
)
from netbank.banking.kana import holder_kana
from netbank.banking.ledger import Line, clearing_account_for, ledger_post
from netbank.banking.limits import effective_daily_limit
from netbank.banking.models import Account, JournalEntry, Payee, SigningChallenge, Transfer
from netbank.banking.selectors import customer_account, daily_used
from netbank.customers.models import Customer
from netbank.ops import metrics

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")
SUSPENDED_MESSAGE = _("現在お取引を停止しています。詳しくはヘルプデスクへお問い合わせください。")


@dataclass(frozen=True)
class TransferOrder:
    """What the customer asked for, validated, as kept between 入力 and 確認."""

    kind: str  # Transfer.Kind
    from_account_id: int
    amount: int
    destination: Destination
    to_account_id: int | None = None  # 振替: the customer's own account
    scheduled_for: date | None = None  # 振込予約

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "from_account_id": self.from_account_id,
            "amount": self.amount,
            "destination": self.destination.as_dict(),
            "to_account_id": self.to_account_id,
            "scheduled_for": self.scheduled_for.isoformat() if self.scheduled_for else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransferOrder:
        scheduled = data.get("scheduled_for")
        to_account = data.get("to_account_id")
        return cls(
            kind=str(Transfer.Kind(data["kind"])),
            from_account_id=int(data["from_account_id"]),
            amount=int(data["amount"]),
            destination=Destination.from_dict(data["destination"]),
            to_account_id=int(to_account) if to_account is not None else None,
            scheduled_for=date.fromisoformat(scheduled) if scheduled else None,
        )


@dataclass(frozen=True)
class Requirements:
    """What confirming an order takes beyond the 確認用パスワード."""

    signing: bool
    new_payee: bool
    reasons: list[str] = field(default_factory=list)
    # How the customer confirms when ``signing``: "passkey" or "signing" (the 取引認証番号).
    method: str = METHOD_SIGNING


@dataclass(frozen=True)
class TransferResult:
    transfer: Transfer
    duplicate: bool  # the idempotency key had been used: nothing new happened


def own_bank_code() -> str:
    return str(banking_setting("bank_code"))


def _bank_account(destination: Destination) -> Account | None:
    return Account.objects.filter(
        kind=Account.Kind.CUSTOMER,
        closed_at__isnull=True,
        branch_code=destination.branch_code,
        account_type=destination.account_type,
        account_number=destination.account_number,
    ).first()


def registered_payee(customer: Customer, destination: Destination) -> Payee | None:
    return Payee.objects.filter(
        customer=customer,
        bank_code=destination.bank_code,
        branch_code=destination.branch_code,
        account_type=destination.account_type,
        account_number=destination.account_number,
    ).first()


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise BankingError(_("金額は1円以上で入力してください。"), code="bad_amount")
    if amount > 999_999_999_999:
        raise BankingError(_("金額が大きすぎます。"), code="bad_amount")


def _check_schedule(day: date | None) -> None:
    if day is None:
        return
    today = today_jst()
    if day <= today:
        raise BankingError(_("振込指定日は翌営業日以降の日付を指定してください。"), code="bad_date")
    if day > today + timedelta(days=int_setting("schedule_max_days")):
        raise BankingError(
            _("振込指定日は%(days)s日先までの営業日を指定してください。")
            % {"days": int_setting("schedule_max_days")},
            code="bad_date",
        )
    if not is_business_day(day):
        raise BankingError(
            _(
                "振込指定日が銀行の休業日です（土日・祝日・12月31日～1月3日）。営業日を指定してください。"
            ),
            code="bad_date",
        )


def furikae_order(
    *, customer: Customer, from_account_id: int, to_account_id: int, amount: int
) -> TransferOrder:
    """振替 between two of the customer's own accounts."""
    _check_amount(amount)
    src = customer_account(customer, from_account_id)
    dst = customer_account(customer, to_account_id)
    if src is None or dst is None:
        raise BankingError(_("口座を選択してください。"), code="bad_account")
    if src.pk == dst.pk:
        raise BankingError(_("支払口座と入金口座に同じ口座は指定できません。"), code="same_account")
    if amount > src.balance:
        raise InsufficientFundsError(_("お引出し可能な残高が不足しています。"))
    return TransferOrder(
        kind=Transfer.Kind.FURIKAE,
        from_account_id=src.pk,
        amount=amount,
        destination=Destination.of_account(dst, own_bank_code()),
        to_account_id=dst.pk,
    )


def furikomi_order(
    *,
    customer: Customer,
    from_account_id: int,
    amount: int,
    destination: Destination,
    scheduled_for: date | None = None,
) -> TransferOrder:
    """振込 to an account at this or another bank, now or on a future business day."""
    _check_amount(amount)
    _check_schedule(scheduled_for)
    src = customer_account(customer, from_account_id)
    if src is None:
        raise BankingError(_("支払口座を選択してください。"), code="bad_account")
    destination = destination_named(destination)
    if destination.bank_code == own_bank_code():
        target = _bank_account(destination)
        if target is None:
            raise BankingError(
                _("お振込先の口座が見つかりません。支店コード・科目・口座番号をご確認ください。"),
                code="no_such_account",
            )
        if target.pk == src.pk:
            raise BankingError(_("支払口座と同じ口座には振り込めません。"), code="same_account")
    if scheduled_for is None and amount > src.balance:
        raise InsufficientFundsError(_("お引出し可能な残高が不足しています。"))
    limit = effective_daily_limit(customer)
    used = daily_used(customer, today_jst()) if scheduled_for is None else 0
    if used + amount > limit:
        raise LimitExceededError(
            _("振込限度額を超えています（1日の限度額 %(limit)s円、本日のご利用 %(used)s円）。")
            % {"limit": f"{limit:,}", "used": f"{used:,}"}
        )
    return TransferOrder(
        kind=Transfer.Kind.FURIKOMI,
        from_account_id=src.pk,
        amount=amount,
        destination=destination,
        scheduled_for=scheduled_for,
    )


def transfer_requirements(*, customer: Customer, order: TransferOrder) -> Requirements:
    """Whether the order needs a signing code; refuses orders the customer cannot make.

    A 振込 needs one to a payee not registered, or above the signing threshold; a
    customer with a passkey confirms it with the passkey instead (banking.confirmation).
    A new payee also waits out the hold after a token issue or re-issue, or a passkey
    registration.
    """
    if order.kind == Transfer.Kind.FURIKAE:
        return Requirements(signing=False, new_payee=False)
    if customer_account(customer, order.from_account_id) is None:
        # Closed since the order was drafted: the signing question needs the account.
        raise BankingError(_("支払口座を選択してください。"), code="bad_account")
    new_payee = registered_payee(customer, order.destination) is None
    reasons: list[str] = []
    if new_payee:
        reasons.append(str(_("登録先以外への振込")))
    threshold = int_setting("signing_threshold")
    if order.amount > threshold:
        reasons.append(str(_("%(threshold)s円を超える振込")) % {"threshold": f"{threshold:,}"})
    if not reasons:
        return Requirements(signing=False, new_payee=False)
    # Above the threshold to a 登録先 there is no hold, but there must be a way to confirm.
    capability = confirmation_check(customer, hold=new_payee)
    return Requirements(
        signing=True, new_payee=new_payee, reasons=reasons, method=str(capability.method)
    )


def _check_active(customer: Customer) -> None:
    if customer.status != Customer.Status.ACTIVE:
        raise CustomerNotActiveError(SUSPENDED_MESSAGE)


def _memo_name(customer: Customer) -> str:
    return holder_kana(customer.name_kana, fallback="")


def _post(transfer: Transfer, customer: Customer) -> JournalEntry:
    """The journal entry of one transfer; raises InsufficientFundsError (nothing written)."""
    if transfer.kind == Transfer.Kind.FURIKAE:
        assert transfer.to_account is not None  # noqa: S101 (set for every 振替)
        dst = transfer.to_account
        lines = [
            Line(
                transfer.from_account_id,
                -transfer.amount,
                f"振替 {dst.get_account_type_display()} {dst.account_number}",
            ),
            Line(dst.pk, transfer.amount, f"振替 {transfer.from_account.account_number}"),
        ]
        return ledger_post(kind=JournalEntry.Kind.FURIKAE, lines=lines)
    out_memo = f"振込 {transfer.name_kana}"
    if transfer.bank_code == own_bank_code():
        target = transfer.to_account
        if target is None or target.closed_at is not None:
            raise BankingError(_("お振込先の口座が見つかりません。"), code="no_such_account")
        credit = Line(target.pk, transfer.amount, f"振込 {_memo_name(customer)}")
    else:
        clearing = clearing_account_for(customer.pk)
        credit = Line(
            clearing.pk,
            transfer.amount,
            f"振込 {transfer.bank_code}-{transfer.branch_code}-{transfer.account_number}",
        )
    lines = [Line(transfer.from_account_id, -transfer.amount, out_memo), credit]
    return ledger_post(kind=JournalEntry.Kind.FURIKOMI, lines=lines)


def _check_limit(customer: Customer, amount: int, day: date) -> None:
    limit = effective_daily_limit(customer)
    used = daily_used(customer, day)
    if used + amount > limit:
        raise LimitExceededError(
            _("振込限度額を超えています（1日の限度額 %(limit)s円、本日のご利用 %(used)s円）。")
            % {"limit": f"{limit:,}", "used": f"{used:,}"}
        )


def _new_transfer(
    customer: Customer, order: TransferOrder, idempotency_key: str, signed: bool
) -> Transfer:
    src = customer_account(customer, order.from_account_id)
    if src is None:
        raise BankingError(_("支払口座を選択してください。"), code="bad_account")
    to_account: Account | None = None
    if order.kind == Transfer.Kind.FURIKAE:
        to_account = customer_account(customer, order.to_account_id)
        if to_account is None or to_account.pk == src.pk:
            raise BankingError(_("入金口座を選択してください。"), code="bad_account")
    elif order.destination.bank_code == own_bank_code():
        to_account = _bank_account(order.destination)
        if to_account is None or to_account.pk == src.pk:
            raise BankingError(_("お振込先の口座が見つかりません。"), code="no_such_account")
    d = order.destination
    return Transfer(
        customer=customer,
        kind=order.kind,
        idempotency_key=idempotency_key,
        from_account=src,
        to_account=to_account,
        payee=registered_payee(customer, d) if order.kind == Transfer.Kind.FURIKOMI else None,
        bank_code=d.bank_code,
        branch_code=d.branch_code,
        account_type=d.account_type,
        account_number=d.account_number,
        name_kana=d.name_kana,
        amount=order.amount,
        signed=signed,
        created_at=clock.now(),
        scheduled_for=order.scheduled_for,
    )


def _complete(transfer: Transfer, customer: Customer) -> None:
    """Move the money of a transfer row (new or scheduled) and mark it completed."""
    now = clock.now()
    day = today_jst()
    if transfer.kind == Transfer.Kind.FURIKOMI:
        _check_limit(customer, transfer.amount, day)
    entry = _post(transfer, customer)
    transfer.entry = entry
    transfer.state = Transfer.State.COMPLETED
    transfer.executed_at = now
    transfer.executed_on = day
    transfer.failure_reason = ""


def _audit(event: str, transfer: Transfer, ip: str | None, **extra: Any) -> None:
    # Every transfer's outcome passes here: banking.transfer.<completed|scheduled|…>.
    metrics.transfer(transfer.kind, event.rpartition(".")[2])
    record(
        event,
        customer_id=transfer.customer_id,
        ip=ip,
        transfer_id=transfer.pk,
        kind=transfer.kind,
        amount=transfer.amount,
        from_account_id=transfer.from_account_id,
        bank_code=transfer.bank_code,
        branch_code=transfer.branch_code,
        account_number=transfer.account_number,
        signed=transfer.signed,
        **extra,
    )


def _submit(
    *,
    customer: Customer,
    order: TransferOrder,
    idempotency_key: str,
    challenge_id: int | None,
    signing_code: str | None,
    passkey_response: dict[str, Any] | None,
    ip: str | None,
) -> TransferResult:
    if not IDEMPOTENCY_KEY.fullmatch(idempotency_key or ""):
        raise BankingError(_("お手続きをやり直してください。"), code="bad_idempotency_key")
    rejected: str | None = None
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        existing = (
            Transfer.objects.select_related("from_account", "to_account")
            .filter(idempotency_key=idempotency_key)
            .first()
        )
        if existing is not None:
            if existing.customer_id != locked.pk:
                raise BankingError(_("お手続きをやり直してください。"), code="bad_idempotency_key")
            return TransferResult(existing, duplicate=True)
        _check_active(locked)
        requirements = transfer_requirements(customer=locked, order=order)
        signed = False
        if requirements.signing:
            # The operation as the bank holds it: the session's order, the key of its
            # draft and the customer's own account row (never what the form sends).
            outcome = confirm_operation(
                customer=locked,
                purpose=SigningChallenge.Purpose.TRANSFER,
                draft_key=idempotency_key,
                challenge_id=challenge_id,
                signing_code=signing_code,
                passkey_response=passkey_response,
                destination=order.destination,
                amount=order.amount,
                debit_account=customer_account(locked, order.from_account_id),
                scheduled_for=order.scheduled_for,
                ip=ip,
            )
            signed = outcome.accepted
            if not outcome.accepted:
                rejected = str(outcome.message)
        if rejected is None:
            transfer = _new_transfer(locked, order, idempotency_key, signed)
            if order.scheduled_for is None:
                _complete(transfer, locked)
                transfer.save()
                _audit("banking.transfer.completed", transfer, ip)
                notices.transfer_completed_notice(transfer)
            else:
                if order.amount > effective_daily_limit(locked):
                    raise LimitExceededError(_("振込限度額を超えています。"))
                transfer.state = Transfer.State.SCHEDULED
                transfer.save()
                _audit(
                    "banking.transfer.scheduled",
                    transfer,
                    ip,
                    scheduled_for=transfer.scheduled_for.isoformat()
                    if transfer.scheduled_for
                    else None,
                )
                notices.transfer_scheduled_notice(transfer)
    if rejected is not None:
        # The failure was counted and committed above; nothing else changed.
        raise SigningRejectedError(rejected)
    return TransferResult(transfer, duplicate=False)


def transfer_execute(
    *,
    customer: Customer,
    order: TransferOrder,
    idempotency_key: str,
    challenge_id: int | None = None,
    signing_code: str | None = None,
    passkey_response: dict[str, Any] | None = None,
    ip: str | None = None,
) -> TransferResult:
    """Execute a 振替 or 振込 now. The same idempotency key never moves money twice."""
    if order.scheduled_for is not None:
        raise ValueError("a scheduled order goes through transfer_schedule")
    return _submit(
        customer=customer,
        order=order,
        idempotency_key=idempotency_key,
        challenge_id=challenge_id,
        signing_code=signing_code,
        passkey_response=passkey_response,
        ip=ip,
    )


def transfer_schedule(
    *,
    customer: Customer,
    order: TransferOrder,
    idempotency_key: str,
    challenge_id: int | None = None,
    signing_code: str | None = None,
    passkey_response: dict[str, Any] | None = None,
    ip: str | None = None,
) -> TransferResult:
    """Accept a 振込予約 for a future business day (signed now if it needs signing)."""
    if order.scheduled_for is None or order.kind != Transfer.Kind.FURIKOMI:
        raise ValueError("transfer_schedule takes a 振込 order with a date")
    _check_schedule(order.scheduled_for)
    return _submit(
        customer=customer,
        order=order,
        idempotency_key=idempotency_key,
        challenge_id=challenge_id,
        signing_code=signing_code,
        passkey_response=passkey_response,
        ip=ip,
    )


def transfer_cancel(*, customer: Customer, transfer_id: int, ip: str | None = None) -> Transfer:
    """Cancel a 振込予約 that has not run yet."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        transfer = (
            Transfer.objects.select_for_update().filter(pk=transfer_id, customer=locked).first()
        )
        if transfer is None or transfer.state != Transfer.State.SCHEDULED:
            raise BankingError(
                _("この振込予約は取り消しできません（実行済み、または取消済みです）。"),
                code="not_cancellable",
            )
        transfer.state = Transfer.State.CANCELLED
        transfer.cancelled_at = clock.now()
        transfer.save(update_fields=["state", "cancelled_at"])
        _audit("banking.transfer.cancelled", transfer, ip)
        notices.transfer_cancelled_notice(transfer)
    return transfer


@dataclass
class RunSummary:
    executed: int = 0
    failed: int = 0
    skipped: int = 0


def _run_one(transfer_id: int, customer_id: int) -> str:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        transfer = (
            Transfer.objects.select_for_update(of=("self",))
            .select_related("from_account", "to_account", "customer")
            .filter(pk=transfer_id, state=Transfer.State.SCHEDULED)
            .first()
        )
        if transfer is None:
            return "skipped"  # cancelled, or run by another scheduler meanwhile
        try:
            with transaction.atomic():
                _check_active(customer)
                _complete(transfer, customer)
                transfer.save()
        except BankingError as exc:
            transfer.refresh_from_db()
            transfer.state = Transfer.State.FAILED
            transfer.failure_reason = exc.code
            transfer.executed_at = clock.now()
            transfer.save(update_fields=["state", "failure_reason", "executed_at"])
            _audit("banking.transfer.failed", transfer, None, reason=exc.code)
            notices.transfer_failed_notice(transfer, str(exc.message))
            return "failed"
        _audit("banking.transfer.completed", transfer, None, scheduled=True)
        notices.transfer_completed_notice(transfer)
        return "executed"


def scheduled_transfers_run(*, day: date | None = None) -> RunSummary:
    """Execute every 振込予約 due on or before ``day`` (today in Japan), each exactly once.

    Safe to run on several nodes at once: each transfer is re-read under the
    customer's and its own row lock and only a still-scheduled one runs.
    Balance, limit and the customer's status are checked again at run time.
    """
    due_day = day or today_jst()
    due = list(
        Transfer.objects.filter(state=Transfer.State.SCHEDULED, scheduled_for__lte=due_day)
        .order_by("scheduled_for", "pk")
        .values_list("pk", "customer_id")
    )
    summary = RunSummary()
    for transfer_id, customer_id in due:
        outcome = _run_one(transfer_id, customer_id)
        setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary
