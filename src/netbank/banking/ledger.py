"""The double-entry ledger: opening accounts and posting journal entries.

``ledger_post`` is the only code that changes a balance. It runs inside the caller's
transaction, locks every account it touches in primary-key order (so two entries
over the same accounts can never deadlock), refuses an entry whose postings do not
sum to zero, refuses to take a customer account below zero, and writes each
posting with the balance right after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy as _

from netbank import clock
from netbank.audit.services import record
from netbank.banking.conf import int_setting
from netbank.banking.errors import InsufficientFundsError, LedgerImbalanceError
from netbank.banking.models import Account, AccountType, JournalEntry, Posting
from netbank.customers.models import Customer

CLEARING_BRANCH = "000"
DEFAULT_BRANCH = "001"
MEMO_LENGTH = 48


@dataclass(frozen=True)
class Line:
    """One posting to be made: a signed amount of yen on an account."""

    account_id: int
    amount: int
    memo: str


def clearing_account(*, shard: int = 0) -> Account:
    """The clearing account that stands in for other banks.

    There are ``clearing_shards`` of them (000-0000001, 000-0000002, …) so that
    transfers of different customers to other banks do not all queue on one row;
    together they are the bank's net position towards other banks.
    """
    shards = max(1, int_setting("clearing_shards"))
    number = f"{shard % shards + 1:07d}"
    found = Account.objects.filter(branch_code=CLEARING_BRANCH, account_number=number).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Account.objects.create(
                kind=Account.Kind.CLEARING,
                branch_code=CLEARING_BRANCH,
                account_type=AccountType.CURRENT,
                account_number=number,
                holder_kana="ｾｲｻﾝｶﾝｼﾞﾖｳ",
                opened_at=clock.now(),
            )
    except IntegrityError:
        # Another process created it first.
        return Account.objects.get(branch_code=CLEARING_BRANCH, account_number=number)


def clearing_account_for(customer_id: int) -> Account:
    return clearing_account(shard=customer_id)


def account_open(
    *,
    customer: Customer,
    account_type: str,
    holder_kana: str,
    branch_code: str = DEFAULT_BRANCH,
) -> Account:
    """Open a deposit account with a random, unused 7-digit number."""
    AccountType(account_type)  # refuses an unknown type
    with transaction.atomic():
        for _attempt in range(20):
            number = f"{1_000_000 + secrets.randbelow(9_000_000):07d}"
            try:
                with transaction.atomic():
                    account = Account.objects.create(
                        kind=Account.Kind.CUSTOMER,
                        customer=customer,
                        branch_code=branch_code,
                        account_type=account_type,
                        account_number=number,
                        holder_kana=holder_kana,
                        opened_at=clock.now(),
                    )
            except IntegrityError:
                continue
            record(
                "banking.account.opened",
                customer_id=customer.pk,
                account_id=account.pk,
                account_type=account_type,
                branch=branch_code,
            )
            return account
    raise RuntimeError("no free account number after 20 tries")


def ledger_post(
    *,
    kind: str,
    lines: Sequence[Line],
    description: str = "",
    at: datetime | None = None,
) -> JournalEntry:
    """Write one journal entry. Call inside ``transaction.atomic``.

    Raises InsufficientFundsError (nothing written) if a customer account would go
    below zero, LedgerImbalanceError if the lines do not sum to zero.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post must run inside transaction.atomic")
    if len(lines) < 2:
        raise LedgerImbalanceError("an entry needs at least two postings")
    for line in lines:
        if type(line.amount) is not int or line.amount == 0:
            raise LedgerImbalanceError(
                f"posting amount must be a non-zero int, got {line.amount!r}"
            )
    if sum(line.amount for line in lines) != 0:
        raise LedgerImbalanceError("postings of an entry must sum to zero")
    when = at or clock.now()
    ids = sorted({line.account_id for line in lines})
    # Fixed lock order (primary key) for every entry: no deadlocks between entries.
    locked = {
        a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    if len(locked) != len(ids):
        raise LedgerImbalanceError("posting to an account that does not exist")
    balances = {pk: a.balance for pk, a in locked.items()}
    for line in lines:
        balances[line.account_id] += line.amount
    for pk, balance in balances.items():
        account = locked[pk]
        if account.kind == Account.Kind.CUSTOMER and balance < 0:
            raise InsufficientFundsError(_("お引出し可能な残高が不足しています。"))
        if account.closed_at is not None:
            raise LedgerImbalanceError(f"account {pk} is closed")
    entry = JournalEntry.objects.create(kind=kind, created_at=when, description=description)
    running = {pk: a.balance for pk, a in locked.items()}
    postings = []
    for line in lines:
        running[line.account_id] += line.amount
        postings.append(
            Posting(
                entry=entry,
                account_id=line.account_id,
                amount=line.amount,
                balance_after=running[line.account_id],
                memo=line.memo[:MEMO_LENGTH],
                posted_at=when,
            )
        )
    Posting.objects.bulk_create(postings)
    for pk, balance in balances.items():
        locked[pk].balance = balance
    # One UPDATE … CASE for all accounts of the entry.
    Account.objects.bulk_update(locked.values(), ["balance"])
    return entry
