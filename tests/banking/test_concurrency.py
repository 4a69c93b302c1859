"""Many simultaneous transfers on PostgreSQL: never overdrawn, not a yen lost or made.

Each thread has its own database connection, and the process test runs real separate
processes, as several app nodes on one database would.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from netbank.banking.destination import Destination
from netbank.banking.errors import BankingError, CustomerNotActiveError
from netbank.banking.models import Account, AccountType, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.selectors import ledger_check
from netbank.banking.transfers import furikae_order, furikomi_order, transfer_execute
from netbank.customers.models import Customer
from tests.banking.factories import customer_with_account, open_account, other_bank

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_unsigned_cap(settings: pytest.FixtureRequest) -> None:
    # These tests are about the balance; the daily limit must not be what stops them.
    settings.NETBANK_BANKING = {  # type: ignore[attr-defined]
        **settings.NETBANK_BANKING,  # type: ignore[attr-defined]
        "unsigned_daily_limit": 10**9,
        "default_daily_limit": 10**9,
    }


def run_threads(count: int, work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def target(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def test_parallel_transfers_from_one_account_never_overdraw_or_lose_a_yen() -> None:
    customer, src = customer_with_account(100_000)
    savings = open_account(customer, account_type=AccountType.SAVINGS)
    payee_seed(customer=customer, destination=other_bank())
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(10):
            try:
                if (n + i) % 2:
                    order = furikomi_order(
                        customer=customer,
                        from_account_id=src.pk,
                        amount=1_000,
                        destination=other_bank(),
                    )
                else:
                    order = furikae_order(
                        customer=customer,
                        from_account_id=src.pk,
                        to_account_id=savings.pk,
                        amount=1_000,
                    )
                transfer_execute(
                    customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32)
                )
                result = "ok"
            except BankingError as exc:
                result = exc.code
            with lock:
                outcomes[result] += 1

    run_threads(16, work)
    src.refresh_from_db()
    assert outcomes["ok"] == 100
    assert outcomes["insufficient_funds"] == 60
    assert src.balance == 0
    assert Transfer.objects.filter(state=Transfer.State.COMPLETED).count() == 100
    assert ledger_check() == []


def test_one_transfer_submitted_from_many_tabs_at_once_moves_money_once() -> None:
    customer, src = customer_with_account(100_000)
    payee_seed(customer=customer, destination=other_bank())
    order = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=30_000, destination=other_bank()
    )
    key = secrets.token_urlsafe(32)
    duplicates: list[bool] = []

    def work(_n: int) -> None:
        duplicates.append(
            transfer_execute(customer=customer, order=order, idempotency_key=key).duplicate
        )

    run_threads(8, work)
    assert sorted(duplicates) == [False] + [True] * 7
    src.refresh_from_db()
    assert src.balance == 70_000
    assert ledger_check() == []


def test_transfers_between_two_customers_in_both_directions_do_not_deadlock() -> None:
    alice, a_acc = customer_with_account(50_000)
    bob, b_acc = customer_with_account(50_000)
    to_bob = Destination.of_account(b_acc, "9999")
    to_alice = Destination.of_account(a_acc, "9999")
    payee_seed(customer=alice, destination=to_bob)
    payee_seed(customer=bob, destination=to_alice)

    def work(n: int) -> None:
        payer, acc, dest = (alice, a_acc, to_bob) if n % 2 else (bob, b_acc, to_alice)
        for _ in range(8):
            order = furikomi_order(
                customer=payer, from_account_id=acc.pk, amount=700, destination=dest
            )
            with contextlib.suppress(BankingError):
                transfer_execute(
                    customer=payer, order=order, idempotency_key=secrets.token_urlsafe(32)
                )

    run_threads(8, work)
    a_acc.refresh_from_db()
    b_acc.refresh_from_db()
    assert a_acc.balance + b_acc.balance == 100_000
    assert ledger_check() == []


def wait_until_a_session_waits_for_a_lock() -> None:
    """Block until another backend of this database waits on a row lock (or fail)."""
    with connections["default"].cursor() as cursor:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            # pg_locks is live (pg_stat_activity is snapshotted per transaction).
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0] >= 1:
                return
            time.sleep(0.01)  # polling for the other thread, not waiting out a clock
    pytest.fail("the transfer never reached the customer's row lock")


def test_suspension_holding_the_customer_lock_is_not_overtaken_by_a_transfer() -> None:
    customer, src = customer_with_account(100_000)
    payee_seed(customer=customer, destination=other_bank())
    order = furikomi_order(
        customer=customer, from_account_id=src.pk, amount=10_000, destination=other_bank()
    )
    results: list[str] = []
    started = threading.Event()

    def transfer() -> None:
        try:
            started.set()
            transfer_execute(
                customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32)
            )
            results.append("transferred")
        except CustomerNotActiveError:
            results.append("refused")
        finally:
            connections.close_all()

    # The helpdesk's suspension: lock the customer row, change status, commit later.
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        thread = threading.Thread(target=transfer)
        thread.start()
        started.wait(5)
        wait_until_a_session_waits_for_a_lock()
        assert results == []  # it is waiting, not transferring
        Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    thread.join(30)
    assert results == ["refused"]
    src.refresh_from_db()
    assert src.balance == 100_000


_CHILD = """
import os, secrets, sys
import django
django.setup()
from netbank.banking.destination import Destination
from netbank.banking.errors import BankingError
from netbank.banking.destination import Destination
from netbank.banking.models import Account
from netbank.banking.transfers import furikomi_order, transfer_execute
from netbank.customers.models import Customer
customer = Customer.objects.get(pk=int(sys.argv[1]))
src = Account.objects.get(pk=int(sys.argv[2]))
dest = Destination("0005", "123", "ordinary", "7654321", "ｽｽﾞｷ ﾊﾅｺ")
ok = refused = 0
for _ in range(int(sys.argv[3])):
    try:
        order = furikomi_order(customer=customer, from_account_id=src.pk, amount=700, destination=dest)
        transfer_execute(customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32))
        ok += 1
    except BankingError:
        refused += 1
print(ok, refused)
"""


def test_parallel_processes_like_several_app_nodes_keep_the_invariant() -> None:
    customer, src = customer_with_account(30_000)
    payee_seed(customer=customer, destination=other_bank())
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings",
        # The pinned clock of this test process does not reach the children.
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env["NETBANK_UNSIGNED_DAILY_LIMIT"] = str(10**9)
    env["NETBANK_DEFAULT_DAILY_LIMIT"] = str(10**9)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(customer.pk), str(src.pk), "15"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    ok = refused = 0
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        a, b = map(int, out.split())
        ok, refused = ok + a, refused + b
    # 60 attempts of 700 yen against 30,000: exactly 42 fit.
    assert (ok, refused) == (42, 18)
    src.refresh_from_db()
    assert src.balance == 30_000 - 42 * 700
    assert ledger_check() == []
    assert Account.objects.filter(kind=Account.Kind.CUSTOMER, balance__lt=0).count() == 0
