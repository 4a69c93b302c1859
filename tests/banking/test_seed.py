"""Demo accounts: balance, history, payees, and running the seed twice."""

from __future__ import annotations

import pytest

from netbank.banking.models import Account, AccountType, Payee, Posting
from netbank.banking.seed import seed_demo_accounts
from netbank.banking.selectors import ledger_check
from tests.customers.factories import make_customer

pytestmark = pytest.mark.django_db


def test_seed_gives_a_futsu_account_with_history_and_is_idempotent() -> None:
    customer = make_customer()
    lines = seed_demo_accounts(customer)
    assert lines
    assert "普通" in lines[0]
    ordinary = Account.objects.get(customer=customer, account_type=AccountType.ORDINARY)
    savings = Account.objects.get(customer=customer, account_type=AccountType.SAVINGS)
    assert ordinary.balance == 280_000 * 3 - 8_420 - 5_130 - 30_000 - 8_910 - 4_200 - 100_000
    assert savings.balance == 100_000
    assert Posting.objects.filter(account=ordinary).count() == 9
    after = list(
        Posting.objects.filter(account=ordinary).order_by("id").values_list("posted_at", flat=True)
    )
    assert after == sorted(after)  # a passbook: oldest first, running balances in order
    assert Payee.objects.filter(customer=customer).count() == 2
    assert ledger_check() == []
    assert seed_demo_accounts(customer) == []
    assert Account.objects.filter(customer=customer).count() == 2
    assert Posting.objects.filter(account=ordinary).count() == 9
