"""Transfers per second and latency on PostgreSQL, at concurrency 8 and 32.

Usage:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/transfers.py [--seconds 10] [--concurrency 8 32]

Creates a scratch database (``test_<name>``, migrated, dropped at the end), then for
each concurrency runs two workloads from separate worker processes (as separate app
nodes would), each process with its own connection:

* ``one-account``: every worker pays from the same account (the worst case: all
  transfers queue on one customer row and one account row);
* ``many-accounts``: each worker is its own customer with its own account.

Each transfer is one ``transfer_execute`` call (customer lock, idempotency check,
requirements, limit, ledger entry, transfer row, audit row, outbox mail) to a
registered payee at another bank. Prints transfers/s and p50/p99 latency, then runs
the ledger check and counts every transfer and yen; exits 1 if anything is off.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

# Limits out of the way: this measures the transfer path, not the policy.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbank.config.test_settings")
os.environ["NETBANK_UNSIGNED_DAILY_LIMIT"] = str(10**11)
os.environ["NETBANK_DEFAULT_DAILY_LIMIT"] = str(10**11)
os.environ["NETBANK_MAX_DAILY_LIMIT"] = str(10**11)
os.environ["NETBANK_SIGNING_THRESHOLD"] = str(10**11)

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402
from django.urls import get_resolver  # noqa: E402

# Load the URLconf (every view module) before the workers fork, as a server does at
# start-up: otherwise each worker imports it on its first mail's link, inside the
# measured time.
get_resolver().url_patterns  # noqa: B018

from netbank.banking.destination import Destination  # noqa: E402
from netbank.banking.models import Account, AccountType, Transfer  # noqa: E402
from netbank.banking.payees import payee_seed  # noqa: E402
from netbank.banking.selectors import ledger_check  # noqa: E402
from netbank.banking.transfers import furikomi_order, transfer_execute  # noqa: E402
from netbank.customers.models import Customer  # noqa: E402
from netbank.customers.services import customer_create  # noqa: E402

PAYEE = Destination("0005", "123", AccountType.ORDINARY, "7654321", "ｽｽﾞｷ ﾊﾅｺ")
START_BALANCE = 10**10
AMOUNT = 1


@dataclass
class Result:
    label: str
    concurrency: int
    transfers: int
    refused: int
    seconds: float
    latencies_ms: list[float]
    app_cpu_seconds: float  # CPU time of the worker processes (not PostgreSQL's)

    @property
    def cpu_ms_per_transfer(self) -> float:
        return 1000 * self.app_cpu_seconds / self.transfers if self.transfers else 0.0

    @property
    def per_second(self) -> float:
        return self.transfers / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]


def _customer(n: int) -> tuple[Customer, Account]:
    from tests.banking.factories import open_account

    customer = customer_create(
        login_id=f"bench{n:05d}",
        name_kanji="ベンチ 太郎",
        name_kana="ベンチ タロウ",
        email=f"bench{n}@example.jp",
        password="bench-pass-1",  # noqa: S106 - scratch database only
        transaction_password="bench-kakunin-1",  # noqa: S106 - scratch database only
    )
    account = open_account(customer, balance=START_BALANCE)
    payee_seed(customer=customer, destination=PAYEE)
    return customer, account


def _worker(
    customer_id: int,
    account_id: int,
    seconds: float,
    barrier: mp.synchronize.Barrier,
    out: mp.Queue,  # type: ignore[type-arg]
) -> None:
    connections.close_all()  # never share the parent's socket
    customer = Customer.objects.get(pk=customer_id)
    latencies: list[float] = []
    refused = 0
    barrier.wait()
    cpu_started = time.process_time()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        order = furikomi_order(
            customer=customer, from_account_id=account_id, amount=AMOUNT, destination=PAYEE
        )
        started = time.perf_counter()
        try:
            transfer_execute(
                customer=customer, order=order, idempotency_key=secrets.token_urlsafe(32)
            )
        except Exception:
            refused += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    cpu = time.process_time() - cpu_started
    connections.close_all()
    out.put((latencies, refused, cpu))


def run(label: str, pairs: list[tuple[int, int]], seconds: float) -> Result:
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(pairs) + 1)
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    connections.close_all()
    procs = [
        ctx.Process(target=_worker, args=(cid, aid, seconds, barrier, out)) for cid, aid in pairs
    ]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.monotonic()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    elapsed = time.monotonic() - started
    for p in procs:
        p.join(timeout=30)
    latencies = [ms for lat, _, _ in results for ms in lat]
    return Result(
        label=label,
        concurrency=len(pairs),
        transfers=len(latencies),
        refused=sum(r for _, r, _ in results),
        seconds=elapsed,
        latencies_ms=latencies,
        app_cpu_seconds=sum(c for _, _, c in results),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench/transfers.py needs PostgreSQL: set DATABASE_URL=postgres://...")
        return 2
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results: list[Result] = []
        customer_seq = 0
        for concurrency in args.concurrency:
            customer_seq += 1
            shared, shared_account = _customer(customer_seq)
            results.append(
                run(
                    "one-account",
                    [(shared.pk, shared_account.pk)] * concurrency,
                    args.seconds,
                )
            )
            pairs = []
            for _ in range(concurrency):
                customer_seq += 1
                customer, account = _customer(customer_seq)
                pairs.append((customer.pk, account.pk))
            results.append(run("many-accounts", pairs, args.seconds))

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        print(f"PostgreSQL {version}, {os.cpu_count()} CPUs, {args.seconds:.0f} s a run")
        print(
            f"{'workload':<14} {'conc':>4} {'transfers':>9} {'refused':>7} {'per s':>8} "
            f"{'p50 ms':>8} {'p99 ms':>8} {'app CPU ms/transfer':>20}"
        )
        for r in results:
            print(
                f"{r.label:<14} {r.concurrency:>4} {r.transfers:>9} {r.refused:>7} "
                f"{r.per_second:>8.1f} {r.percentile(50):>8.1f} {r.percentile(99):>8.1f} "
                f"{r.cpu_ms_per_transfer:>20.1f}"
            )
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")

        problems = ledger_check()
        completed = Transfer.objects.filter(state=Transfer.State.COMPLETED).count()
        expected = sum(r.transfers for r in results)
        if completed != expected:
            problems.append(f"{completed} completed transfers in the database, {expected} reported")
        moved = sum(START_BALANCE - a.balance for a in Account.objects.filter(kind="customer"))
        if moved != expected * AMOUNT:
            problems.append(f"{moved} yen left the accounts, {expected * AMOUNT} expected")
        if problems:
            print("LEDGER CHECK FAILED:")
            for problem in problems:
                print("  " + problem)
            return 1
        print(f"ledger check: OK ({completed} transfers, every yen accounted for)")
        return 0
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
