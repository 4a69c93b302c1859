"""The hash chains of the audit trail: chain keys and the canonical record digest.

Every record belongs to exactly one chain: its operator's when an operator acted,
otherwise its customer's, otherwise the one ``system`` chain (throttling, unknown
login IDs). Within a chain, records are numbered 1, 2, 3 … (``seq``) and each one
carries the digest of the one before (``prev_hash``; the first carries ``GENESIS``).

The digest is SHA-256 over a canonical encoding that anyone can recompute from an
export (docs/audit.md): JSON with sorted keys, no whitespace, ASCII only, of exactly
the fields below. Changing this encoding would make every stored digest wrong, so it
is versioned (``v``) and must never change for ``v`` = 1.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.ipv6 import clean_ipv6_address

FORMAT_VERSION = 1
GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


def chain_key(*, customer_id: int | None, operator_id: int | None) -> str:
    """The chain a record goes on: the operator's, else the customer's, else ``system``."""
    if operator_id is not None:
        return f"operator:{operator_id}"
    if customer_id is not None:
        return f"customer:{customer_id}"
    return SYSTEM_CHAIN


def time_text(value: datetime) -> str:
    """``occurred_at`` as it enters the digest: UTC, ISO 8601, always with microseconds."""
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@functools.lru_cache(maxsize=4096)  # every record parses its client's address (twice)
def ip_text(value: object) -> str | None:
    """A client address in the one form both databases give back.

    IPv6 is compressed and lower-cased the way Django stores it (IPv4-mapped addresses
    keep their dotted tail), so a digest made before the INSERT matches the row read back.
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if ":" in text:
            return clean_ipv6_address(text)
        return str(ipaddress.IPv4Address(text))
    except (ValueError, ValidationError):
        raise ValueError(f"not an IP address: {text[:64]!r}") from None


def canonical_bytes(
    *,
    chain: str,
    seq: int,
    prev_hash: str,
    occurred_at: datetime,
    event: str,
    customer_id: int | None,
    operator_id: int | None,
    ip: str | None,
    data: dict[str, Any],
) -> bytes:
    payload = {
        "v": FORMAT_VERSION,
        "chain": chain,
        "seq": seq,
        "prev_hash": prev_hash,
        "occurred_at": time_text(occurred_at),
        "event": event,
        "customer_id": customer_id,
        "operator_id": operator_id,
        "ip": ip_text(ip),
        "data": data,
    }
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


# In the canonical encoding the chain link comes last: the keys sort as … "operator_id",
# "prev_hash", "seq", "v". So a record's encoding is its prefix (everything up to the
# previous hash) ‖ prev_hash ‖ SEQ_SEPARATOR ‖ seq ‖ ENCODING_END, and the append can
# finish the digest inside the statement that reads and moves the chain's head.
_PREV_HASH_OPENING = '"prev_hash":"'
SEQ_SEPARATOR = '","seq":'
ENCODING_END = f',"v":{FORMAT_VERSION}}}'


def canonical_prefix(
    *,
    chain: str,
    occurred_at: datetime,
    event: str,
    customer_id: int | None,
    operator_id: int | None,
    ip: str | None,
    data: dict[str, Any],
) -> str:
    """The canonical encoding up to (not including) the previous link's hash:
    ``canonical_bytes(...) == prefix + prev_hash + SEQ_SEPARATOR + str(seq) + ENCODING_END``.
    """
    text = canonical_bytes(
        chain=chain,
        seq=0,
        prev_hash=GENESIS,
        occurred_at=occurred_at,
        event=event,
        customer_id=customer_id,
        operator_id=operator_id,
        ip=ip,
        data=data,
    ).decode("ascii")
    tail = GENESIS + SEQ_SEPARATOR + "0" + ENCODING_END
    if not text.endswith(_PREV_HASH_OPENING + tail):  # the encoding's key order changed
        raise RuntimeError("canonical encoding does not end with the chain link")
    return text[: -len(tail)]


def record_digest(
    *,
    chain: str,
    seq: int,
    prev_hash: str,
    occurred_at: datetime,
    event: str,
    customer_id: int | None,
    operator_id: int | None,
    ip: str | None,
    data: dict[str, Any],
) -> str:
    """The hex SHA-256 of the record's canonical encoding."""
    return hashlib.sha256(
        canonical_bytes(
            chain=chain,
            seq=seq,
            prev_hash=prev_hash,
            occurred_at=occurred_at,
            event=event,
            customer_id=customer_id,
            operator_id=operator_id,
            ip=ip,
            data=data,
        )
    ).hexdigest()
