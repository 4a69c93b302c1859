"""Hash chains, step 2 of 3: chain the records written before chains existed.

Records are chained in id order (their insert order). The digest is computed by a
frozen copy of the v1 encoding (netbank.audit.chain), so this migration keeps giving
the same digests whatever later code does.
"""

import hashlib
import ipaddress
import json
import re
from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import migrations
from django.utils.ipv6 import clean_ipv6_address

GENESIS = "0" * 64
FIELDS = ["chain", "seq", "prev_hash", "hash", "ip", "data"]


def _chain(customer_id, operator_id):
    if operator_id is not None:
        return f"operator:{operator_id}"
    if customer_id is not None:
        return f"customer:{customer_id}"
    return "system"


def _ip(value):
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        return clean_ipv6_address(text) if ":" in text else str(ipaddress.IPv4Address(text))
    except (ValueError, ValidationError):
        return None


def _digest(row, chain, seq, prev_hash):
    payload = {
        "v": 1,
        "chain": chain,
        "seq": seq,
        "prev_hash": prev_hash,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "event": row.event,
        "customer_id": row.customer_id,
        "operator_id": row.operator_id,
        "ip": _ip(row.ip),
        "data": row.data,
    }
    encoded = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")
    return hashlib.sha256(encoded).hexdigest()


def chain_existing_records(apps, schema_editor):
    AuditRecord = apps.get_model("audit", "AuditRecord")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    heads = {}  # chain -> (seq, hash)
    batch = []
    for row in AuditRecord.objects.filter(seq__isnull=True).order_by("id").iterator(2000):
        chain = _chain(row.customer_id, row.operator_id)
        seq, prev = heads.get(chain, (0, GENESIS))
        row.chain, row.seq, row.prev_hash = chain, seq + 1, prev
        if row.ip is not None and _ip(row.ip) is None:
            # SQLite took any text; keep it, reduced to address characters, in data.
            row.data = {
                **row.data,
                "ip_unparsed": re.sub(r"[^0-9A-Za-z:.%_\-]", "?", str(row.ip))[:64],
            }
        row.ip = _ip(row.ip)
        row.hash = _digest(row, chain, seq + 1, prev)
        heads[chain] = (row.seq, row.hash)
        batch.append(row)
        if len(batch) >= 2000:
            AuditRecord.objects.bulk_update(batch, FIELDS)
            batch = []
    if batch:
        AuditRecord.objects.bulk_update(batch, FIELDS)
    AuditChainHead.objects.bulk_create(
        AuditChainHead(chain=chain, seq=seq, hash=digest) for chain, (seq, digest) in heads.items()
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain_fields_and_heads")]

    operations = [
        # Going back only drops columns and heads (0002's reverse); nothing to undo here.
        migrations.RunPython(chain_existing_records, migrations.RunPython.noop),
    ]
