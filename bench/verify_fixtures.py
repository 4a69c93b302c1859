"""The benchmark's database: migrate, customers with tokens in use, one channel key.

Runs in its own process (``python -m bench.verify_fixtures setup|audit``) with the server's
environment (DATABASE_URL, keys), so the rows are written exactly as the server will
read them, and the benchmark process itself never configures Django.

``setup`` registers one customer through ``customers.services.customer_create`` (the
real service, real Argon2 hashes) and copies its hashes onto the others: the benchmark
never logs in, and hashing tens of thousands of passwords would only make it slow. Each
token is written as activation and 利用開始 leave it (tests/otp/factories.py does the
same): state ``in_use``, its random 20-byte seed ‖ 32-byte signing key sealed with
``otp.crypto.seal`` under the token's id and customer (AES-GCM, AAD-bound), a random
12-digit ユーザID. The channel key comes from ``otp.channels.services.channel_key_create``. Each
customer's audit chain head is created at link 0, as the first ``record()`` would, and
its OTP lockout counter at zero, as 利用開始's OTP check leaves it.
The seeds are written to the output file (mode 0600), which is how the benchmark knows
every token's codes; nothing else ever sees them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

SEED_BYTES = 20
SIGNING_KEY_BYTES = 32
BATCH = 2000
CHANNEL = "bench"


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbank.config.settings")
    import django

    django.setup()


def setup(*, customers: int, out: Path) -> None:
    _django()
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from netbank import clock
    from netbank.audit.chain import chain_key
    from netbank.audit.models import AuditChainHead
    from netbank.customers import lockout
    from netbank.customers.models import Customer, FailureCounter
    from netbank.customers.services import customer_create
    from netbank.otp import crypto
    from netbank.otp.channels.services import channel_key_create
    from netbank.otp.models import Token
    from netbank.otp.token_secret import PURPOSE as SEED_PURPOSE

    call_command("migrate", verbosity=0, interactive=False)
    template = customer_create(
        login_id="bench0000000",
        name_kanji="農協 太郎",
        name_kana="ノウキョウ タロウ",
        email="bench0@example.jp",
        # Never used: the benchmark does not log in. Random, so no fixed password exists.
        password=secrets.token_urlsafe(12),
        transaction_password=secrets.token_urlsafe(12),
    )
    key = channel_key_create(name=CHANNEL).key

    from django.conf import settings

    otp = settings.NETBANK_OTP
    algorithm, digits, period = str(otp["algorithm"]), int(otp["digits"]), int(otp["period"])
    now = clock.now()
    user_ids: set[str] = set()
    rows: list[dict[str, str]] = []
    next_token_id = 1
    for start in range(0, customers, BATCH):
        count = min(BATCH, customers - start)
        with transaction.atomic():
            batch = Customer.objects.bulk_create(
                Customer(
                    login_id=f"bench{start + i + 1:07d}",
                    name_kanji=template.name_kanji,
                    name_kana=template.name_kana,
                    email=f"bench{start + i + 1}@example.jp",
                    password_hash=template.password_hash,
                    transaction_password_hash=template.transaction_password_hash,
                    created_at=now,
                )
                for i in range(count)
            )
            tokens = []
            for customer in batch:
                user_id = str(10**11 + secrets.randbelow(9 * 10**11))
                while user_id in user_ids:
                    user_id = str(10**11 + secrets.randbelow(9 * 10**11))
                user_ids.add(user_id)
                seed = secrets.token_bytes(SEED_BYTES)
                # Explicit ids (a fresh database) so the seal's AAD can name the token.
                sealed = crypto.seal(
                    purpose=SEED_PURPOSE,
                    token_id=next_token_id,
                    customer_id=customer.pk,
                    plaintext=seed + secrets.token_bytes(SIGNING_KEY_BYTES),
                )
                tokens.append(
                    Token(
                        pk=next_token_id,
                        customer=customer,
                        user_id=user_id,
                        state=Token.State.IN_USE,
                        email=customer.email,
                        algorithm=algorithm,
                        digits=digits,
                        period=period,
                        secret_key_id=sealed.key_id,
                        secret_nonce=sealed.nonce,
                        secret_ciphertext=sealed.ciphertext,
                        created_at=now,
                        expires_at=now + timedelta(days=1),
                        activated_at=now,
                        in_use_at=now,
                    )
                )
                rows.append({"user_id": user_id, "login_id": customer.login_id, "seed": seed.hex()})
                next_token_id += 1
            Token.objects.bulk_create(tokens)
            # A real customer's audit chain exists from registration on (customer.created),
            # so its head row is there before the first verification: start each chain at
            # link 0, as record() would on its first append, to measure the usual path.
            AuditChainHead.objects.bulk_create(
                AuditChainHead(chain=chain_key(customer_id=c.pk, operator_id=None)) for c in batch
            )
            # 利用開始's OTP check made each customer's OTP lockout counter (at zero).
            FailureCounter.objects.bulk_create(
                FailureCounter(
                    kind=lockout.OTP, subject=lockout.subject_for_customer(c), updated_at=now
                )
                for c in batch
            )
    # The sequence behind the explicit ids must move past them (PostgreSQL).
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Token]):
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(
            {
                "channel_key": key,
                "algorithm": algorithm,
                "digits": digits,
                "period": period,
                "tokens": rows,
            },
            fh,
        )


def audit_counts() -> dict[str, int]:
    """Audit records per event: the benchmark checks one record per verification."""
    _django()
    from django.db.models import Count

    from netbank.audit.models import AuditRecord

    return {
        row["event"]: row["n"]
        for row in AuditRecord.objects.values("event").annotate(n=Count("id")).order_by()
    }


def calibrate(rounds: int = 300) -> dict[str, float]:
    """CPU microseconds of reference work on this machine, now: one ORM read of a
    token by primary key, the same read as hand-written SQL, and a pure-Python loop.
    The machine's speed changes with everything else it runs; these put the
    benchmark's CPU per verification into units that travel between runs."""
    _django()
    import time

    from django.db import connection

    from netbank.otp.models import Token

    pk = Token.objects.values_list("pk", flat=True).first()
    if pk is None:
        raise SystemExit("calibrate needs the benchmark's tokens (run setup first)")
    table = connection.ops.quote_name(Token._meta.db_table)
    sql = f"SELECT * FROM {table} WHERE id = %s"  # noqa: S608 (a table name from the model)

    def orm() -> None:
        Token.objects.filter(pk=pk).first()

    def raw() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            cursor.fetchone()

    def loop() -> None:
        total = 0
        for i in range(100_000):
            total += i

    result = {}
    for name, work in (("orm_read_us", orm), ("sql_read_us", raw), ("python_loop_us", loop)):
        work()
        started = time.process_time()
        for _ in range(rounds if name != "python_loop_us" else 30):
            work()
        count = rounds if name != "python_loop_us" else 30
        result[name] = round((time.process_time() - started) / count * 1e6, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--customers", type=int, required=True)
    s.add_argument("--out", type=Path, required=True)
    sub.add_parser("audit")
    sub.add_parser("calibrate")
    args = parser.parse_args(argv)
    if args.command == "setup":
        setup(customers=args.customers, out=args.out)
    elif args.command == "calibrate":
        json.dump(calibrate(), sys.stdout)
    else:
        json.dump(audit_counts(), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
