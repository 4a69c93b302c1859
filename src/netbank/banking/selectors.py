"""Reads: accounts, statements, payees, daily usage, and the ledger's own audit."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, F, OuterRef, QuerySet, Sum, Window
from django.db.models.functions import Coalesce

from netbank.banking.business_days import jst_day_bounds
from netbank.banking.models import Account, JournalEntry, Payee, Posting, Transfer
from netbank.customers.models import Customer


def customer_accounts(customer: Customer) -> QuerySet[Account]:
    return Account.objects.filter(
        customer=customer, kind=Account.Kind.CUSTOMER, closed_at__isnull=True
    ).order_by("pk")


def customer_account(customer: Customer, account_id: int | str | None) -> Account | None:
    """The customer's own open account with this id, or None (never another's)."""
    try:
        pk = int(account_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return customer_accounts(customer).filter(pk=pk).first()


def statement_postings(
    *, account: Account, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Posting]:
    """Postings of one account between two Japanese calendar days (inclusive)."""
    qs = Posting.objects.filter(account=account)
    if date_from is not None:
        qs = qs.filter(posted_at__gte=jst_day_bounds(date_from)[0])
    if date_to is not None:
        qs = qs.filter(posted_at__lt=jst_day_bounds(date_to)[1])
    return qs


def customer_payees(customer: Customer) -> QuerySet[Payee]:
    return Payee.objects.filter(customer=customer).order_by("registered_at", "pk")


def daily_used(customer: Customer, day: date) -> int:
    """Yen of 振込 executed on this Japanese day: what the 振込限度額 counts."""
    total = Transfer.objects.filter(
        customer=customer,
        kind=Transfer.Kind.FURIKOMI,
        state=Transfer.State.COMPLETED,
        executed_on=day,
    ).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)


def scheduled_transfers(customer: Customer) -> QuerySet[Transfer]:
    return Transfer.objects.filter(customer=customer, scheduled_for__isnull=False).order_by(
        "-scheduled_for", "-pk"
    )


def ledger_check() -> list[str]:
    """Every invariant of the ledger; returns the problems found (empty: all hold).

    1. each journal entry has at least two postings and they sum to zero;
    2. each account's cached balance equals the sum of its postings;
    3. each posting's balance_after equals the running sum of its account;
    4. no customer account is below zero;
    5. all balances together sum to zero (money is neither created nor lost);
    6. each completed transfer's entry takes exactly its amount from its account.
    """
    problems: list[str] = []
    unbalanced = (
        Posting.objects.values("entry_id")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .values_list("entry_id", "total")
    )
    problems += [f"entry {e}: postings sum to {t}, not 0" for e, t in unbalanced]
    short = (
        Posting.objects.values("entry_id")
        .annotate(n=Count("id"))
        .filter(n__lt=2)
        .values_list("entry_id", flat=True)
    )
    problems += [f"entry {e}: fewer than two postings" for e in short]
    empty = JournalEntry.objects.filter(~Exists(Posting.objects.filter(entry=OuterRef("pk"))))
    problems += [f"entry {e}: no postings" for e in empty.values_list("pk", flat=True)]
    drifted = (
        Account.objects.annotate(total=Coalesce(Sum("postings__amount"), 0))
        .exclude(balance=F("total"))
        .values_list("pk", "balance", "total")
    )
    problems += [f"account {a}: balance {b} but postings sum to {t}" for a, b, t in drifted]
    running = (
        Posting.objects.annotate(
            running=Window(expression=Sum("amount"), partition_by=[F("account_id")], order_by="id")
        )
        .exclude(running=F("balance_after"))
        .order_by("id")
    )
    problems += [
        f"posting {p.pk}: balance_after {p.balance_after} but running sum {p.running}"
        for p in running
    ]
    overdrawn = Account.objects.filter(kind=Account.Kind.CUSTOMER, balance__lt=0)
    problems += [f"account {a.pk}: customer account below zero ({a.balance})" for a in overdrawn]
    total = Account.objects.aggregate(total=Sum("balance"))["total"] or 0
    if total != 0:
        problems.append(f"all balances sum to {total}, not 0")
    wrong = Transfer.objects.filter(state=Transfer.State.COMPLETED).exclude(
        Exists(
            Posting.objects.filter(
                entry_id=OuterRef("entry_id"),
                account_id=OuterRef("from_account_id"),
                amount=-OuterRef("amount"),
            )
        )
    )
    problems += [
        f"transfer {t}: entry does not debit its amount" for t in wrong.values_list("pk", flat=True)
    ]
    return problems
