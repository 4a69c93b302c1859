"""The bank's activation signing keys as the token app trusts them (docs/protocols.md 1.10).

An install configuration names the key the bank signs with now and, while the bank
rolls its key over, the next one; each has a key id and a not-after time. The app trusts
a key only until its not-after time, so a retired key is not trusted forever, and moves
to the next key by itself when the current one runs out.

The fingerprint is what a customer or the helpdesk compares: the app shows it at
初期設定, the token mail and the download page print it.

Pure: no Django, no I/O. Times are Unix seconds; the file format carries them as
ISO 8601 UTC text (``2027-12-31T23:59:59Z``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from netbank.oath.activation import PUBLIC_KEY_BYTES, ActivationError, b64url_decode

_KEY_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_NOT_AFTER_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
FINGERPRINT_HEX = 20  # 80 bits: 5 groups of 4 hex digits, readable over the phone


class BankKeyError(ActivationError):
    """A bank key entry is malformed."""


class BankKeyExpiredError(BankKeyError):
    """Every bank key the app knows is past its not-after time."""


def _raw(public_key: str) -> bytes:
    try:
        return b64url_decode(public_key, length=PUBLIC_KEY_BYTES, field="bank public key")
    except ActivationError as exc:
        raise BankKeyError(str(exc)) from None


def key_fingerprint(public_key: str) -> str:
    """``ABCD 1234 …``: SHA-256 of the 32 raw key bytes, the first 80 bits in hex."""
    digest = hashlib.sha256(b"netbank-bank-key\x00" + _raw(public_key)).hexdigest()
    text = digest[:FINGERPRINT_HEX].upper()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def key_id_for(public_key: str) -> str:
    """The default key id: derived from the key, so two keys never share one."""
    return "k-" + key_fingerprint(public_key).replace(" ", "")[:12].lower()


def not_after_text(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def not_after_parse(text: object) -> int:
    if not isinstance(text, str) or not _NOT_AFTER_RE.fullmatch(text):
        raise BankKeyError("not_after must be ISO 8601 UTC text like 2027-12-31T23:59:59Z")
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise BankKeyError(f"not_after {text!r} is not a real date") from None
    return int(moment.timestamp())


@dataclass(frozen=True)
class BankKey:
    """One signing key the app may trust: until ``not_after`` (Unix seconds), exclusive."""

    key_id: str
    public_key: str  # base64url of the 32-byte Ed25519 key
    not_after: int

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not _KEY_ID_RE.fullmatch(self.key_id):
            raise BankKeyError("key_id must be 1-32 characters [A-Za-z0-9_.-]")
        _raw(self.public_key)
        if isinstance(self.not_after, bool) or not isinstance(self.not_after, int):
            raise BankKeyError("not_after must be a time")

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public_key)

    def valid_at(self, now: float) -> bool:
        return now < self.not_after

    def to_json(self) -> dict[str, str]:
        return {
            "key_id": self.key_id,
            "public_key": self.public_key,
            "not_after": not_after_text(self.not_after),
        }

    @classmethod
    def from_json(cls, data: object) -> BankKey:
        if not isinstance(data, dict) or set(data) != {"key_id", "public_key", "not_after"}:
            raise BankKeyError("a bank key is an object with key_id, public_key and not_after")
        if not isinstance(data["public_key"], str):
            raise BankKeyError("public_key must be a string")
        return cls(
            key_id=data["key_id"],
            public_key=data["public_key"],
            not_after=not_after_parse(data["not_after"]),
        )


def check_key_pair(current: BankKey, following: BankKey | None) -> None:
    """The next key must be another key that outlives the current one."""
    if following is None:
        return
    if following.public_key == current.public_key or following.key_id == current.key_id:
        raise BankKeyError("the next key must differ from the current one (key and key_id)")
    if following.not_after <= current.not_after:
        raise BankKeyError("the next key must stay valid after the current one expires")


def trusted_keys(keys: Sequence[BankKey], now: float) -> tuple[BankKey, ...]:
    """The keys the app trusts at ``now``: the current one until it expires, and the next
    one (the bank may switch to it before the current one runs out). Raises
    ``BankKeyExpiredError`` when none is left: the app must be given a new configuration.
    """
    valid = tuple(key for key in keys if key.valid_at(now))
    if not valid:
        latest = max((key.not_after for key in keys), default=0)
        raise BankKeyExpiredError(
            f"every bank key in the install configuration expired (last {not_after_text(latest)})"
        )
    return valid
