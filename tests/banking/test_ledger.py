"""The ledger's invariants, and attempts to break them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from netbank.banking.errors import InsufficientFundsError, LedgerImbalanceError
from netbank.banking.ledger import Line, clearing_account, ledger_post
from netbank.banking.models import Account, JournalEntry, Posting
from netbank.banking.selectors import ledger_check
from tests.banking.factories import customer_with_account, deposit

pytestmark = pytest.mark.django_db


def test_deposit_posts_balanced_entry_and_keeps_every_invariant() -> None:
    _customer, account = customer_with_account(balance=120_000)
    assert account.balance == 120_000
    postings = list(Posting.objects.filter(account=account))
    assert [(p.amount, p.balance_after) for p in postings] == [(120_000, 120_000)]
    assert ledger_check() == []


def test_entry_whose_postings_do_not_sum_to_zero_is_refused() -> None:
    _customer, account = customer_with_account(balance=1_000)
    with pytest.raises(LedgerImbalanceError), transaction.atomic():
        ledger_post(
            kind=JournalEntry.Kind.INCOMING,
            lines=[Line(clearing_account().pk, -100, "x"), Line(account.pk, 101, "x")],
        )
    account.refresh_from_db()
    assert account.balance == 1_000
    assert ledger_check() == []


@pytest.mark.parametrize("amount", [0, 1.5, True])
def test_posting_amount_must_be_nonzero_int(amount: object) -> None:
    _customer, account = customer_with_account(balance=1_000)
    with pytest.raises(LedgerImbalanceError), transaction.atomic():
        ledger_post(
            kind=JournalEntry.Kind.INCOMING,
            lines=[
                Line(clearing_account().pk, -amount, "x"),  # type: ignore[operator]
                Line(account.pk, amount, "x"),  # type: ignore[arg-type]
            ],
        )


@pytest.mark.django_db(transaction=True)
def test_ledger_post_outside_a_transaction_is_refused() -> None:
    _customer, account = customer_with_account(balance=1_000)
    with pytest.raises(RuntimeError):
        ledger_post(
            kind=JournalEntry.Kind.INCOMING,
            lines=[Line(clearing_account().pk, -1, "x"), Line(account.pk, 1, "x")],
        )


def test_customer_account_cannot_go_below_zero() -> None:
    _customer, account = customer_with_account(balance=1_000)
    with pytest.raises(InsufficientFundsError), transaction.atomic():
        ledger_post(
            kind=JournalEntry.Kind.FURIKOMI,
            lines=[Line(account.pk, -1_001, "x"), Line(clearing_account().pk, 1_001, "x")],
        )
    account.refresh_from_db()
    assert account.balance == 1_000
    assert Posting.objects.filter(account=account).count() == 1


def test_database_check_refuses_a_negative_customer_balance_even_past_the_service() -> None:
    _customer, account = customer_with_account(balance=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=-1)


def test_database_check_refuses_a_zero_posting() -> None:
    _customer, account = customer_with_account(balance=10)
    entry = JournalEntry.objects.first()
    assert entry is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        Posting.objects.create(
            entry=entry,
            account=account,
            amount=0,
            balance_after=10,
            memo="x",
            posted_at=entry.created_at,
        )


def test_ledger_check_finds_a_balance_drifted_from_its_postings() -> None:
    _customer, account = customer_with_account(balance=5_000)
    Account.objects.filter(pk=account.pk).update(balance=5_001)
    problems = ledger_check()
    assert any(f"account {account.pk}: balance 5001" in p for p in problems)
    assert any("all balances sum to 1" in p for p in problems)


def test_ledger_check_finds_an_unbalanced_entry_and_a_wrong_running_balance() -> None:
    _customer, account = customer_with_account(balance=5_000)
    posting = Posting.objects.get(account=account)
    Posting.objects.filter(pk=posting.pk).update(amount=4_000)
    problems = ledger_check()
    assert any(f"entry {posting.entry_id}: postings sum to -1000" in p for p in problems)
    assert any(
        f"posting {posting.pk}: balance_after 5000 but running sum 4000" in p for p in problems
    )


def test_running_balance_is_recorded_on_each_posting() -> None:
    _customer, account = customer_with_account(balance=1_000)
    deposit(account, 250)
    deposit(account, 750)
    after = list(Posting.objects.filter(account=account).values_list("balance_after", flat=True))
    assert after == [1_000, 1_250, 2_000]
    assert ledger_check() == []


def test_clearing_accounts_are_sharded_and_created_once() -> None:
    first = clearing_account(shard=3)
    again = clearing_account(shard=3)
    other = clearing_account(shard=4)
    assert first.pk == again.pk
    assert other.pk != first.pk
    assert first.kind == Account.Kind.CLEARING
    assert first.customer_id is None
