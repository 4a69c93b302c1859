"""Demo accounts: a 普通預金 with a salary, bills and a transfer in its history, and
a 貯蓄預金, for each demo customer. Idempotent: a customer who already has accounts
is left as they are. Called by the demo's seed list (netbank.demo.seed)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from netbank import clock
from netbank.banking.destination import Destination
from netbank.banking.kana import holder_kana
from netbank.banking.ledger import Line, account_open, clearing_account_for, ledger_post
from netbank.banking.models import Account, AccountType, JournalEntry
from netbank.banking.payees import payee_seed
from netbank.customers.models import Customer

# (days ago, kind, signed amount on the 普通預金, 摘要)
_HISTORY: tuple[tuple[int, str, int, str], ...] = (
    (58, JournalEntry.Kind.INCOMING, 280_000, "振込 ｷﾕｳﾖ ｶ)ﾈﾂﾄｼﾖｳｼﾞ"),
    (45, JournalEntry.Kind.DIRECT_DEBIT, -8_420, "口座振替 ﾃﾞﾝｷﾘﾖｳｷﾝ"),
    (38, JournalEntry.Kind.DIRECT_DEBIT, -5_130, "口座振替 ｶﾞｽﾘﾖｳｷﾝ"),
    (30, JournalEntry.Kind.INCOMING, 280_000, "振込 ｷﾕｳﾖ ｶ)ﾈﾂﾄｼﾖｳｼﾞ"),
    (21, JournalEntry.Kind.FURIKOMI, -30_000, "振込 ｽｽﾞｷ ﾊﾅｺ"),
    (15, JournalEntry.Kind.DIRECT_DEBIT, -8_910, "口座振替 ﾃﾞﾝｷﾘﾖｳｷﾝ"),
    (9, JournalEntry.Kind.DIRECT_DEBIT, -4_200, "口座振替 ｽｲﾄﾞｳﾘﾖｳｷﾝ"),
    (2, JournalEntry.Kind.INCOMING, 280_000, "振込 ｷﾕｳﾖ ｶ)ﾈﾂﾄｼﾖｳｼﾞ"),
)
_SAVINGS_DAYS_AGO = 50
_SAVINGS_AMOUNT = 100_000

DEMO_PAYEES: tuple[tuple[Destination, str], ...] = (
    (Destination("0005", "123", AccountType.ORDINARY, "1234567", "ｽｽﾞｷ ﾊﾅｺ"), "鈴木 花子"),
    (Destination("0009", "456", AccountType.ORDINARY, "7654321", "ｶ)ﾈﾂﾄﾔﾁﾝ"), "家賃"),
)


def _holder(customer: Customer) -> str:
    return holder_kana(customer.name_kana, fallback="ﾃﾞﾓ")


def seed_demo_accounts(customer: Customer) -> list[str]:
    """Give a demo customer a 普通預金 with history, a 貯蓄預金 and two 登録先.

    Returns lines for the demo's console (empty when nothing was missing).
    """
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if Account.objects.filter(customer=locked).exists():
            return []
        holder = _holder(locked)
        ordinary = account_open(
            customer=locked, account_type=AccountType.ORDINARY, holder_kana=holder
        )
        savings = account_open(
            customer=locked, account_type=AccountType.SAVINGS, holder_kana=holder
        )
        clearing = clearing_account_for(locked.pk)
        now = clock.now()
        entries: list[tuple[int, str, int, str]] = list(_HISTORY)
        entries.append((_SAVINGS_DAYS_AGO, JournalEntry.Kind.FURIKAE, -_SAVINGS_AMOUNT, ""))
        # Oldest first, so the running balance of each posting reads as a passbook.
        for days, kind, amount, memo in sorted(entries, key=lambda e: -e[0]):
            at = now - timedelta(days=days, hours=1)
            if kind == JournalEntry.Kind.FURIKAE:
                lines = [
                    Line(ordinary.pk, amount, f"振替 貯蓄 {savings.account_number}"),
                    Line(savings.pk, -amount, f"振替 {ordinary.account_number}"),
                ]
            else:
                lines = [Line(ordinary.pk, amount, memo), Line(clearing.pk, -amount, memo)]
            ledger_post(kind=kind, lines=lines, at=at)
        for destination, nickname in DEMO_PAYEES:
            payee_seed(customer=locked, destination=destination, nickname=nickname)
        ordinary.refresh_from_db()
        savings.refresh_from_db()
    return [
        f"口座を作成しました / accounts opened for {locked.login_id}: "
        f"普通 {ordinary.branch_code}-{ordinary.account_number} ({ordinary.balance:,}円), "
        f"貯蓄 {savings.branch_code}-{savings.account_number} ({savings.balance:,}円)"
    ]
