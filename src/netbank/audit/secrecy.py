"""What ``record()`` refuses to write: secrets, and values the chain cannot hash stably.

The trail is read by helpdesk operators, exported to auditors and kept for years, so it
must never hold a credential. The rule is about names, at every depth of ``data``:

* a key is split into words (``activation_password``, ``otpCode``, ``seed-hex`` …);
  if any word names a secret (password, otp, code, seed, secret, token, url, pin, key …)
  the key is refused,
* unless its last word says the value is *about* the secret, not the secret itself
  (``token_id``, ``password_changed``, ``tokens_suspended``, ``key_id``), or it is one of
  the few public identifiers that happen to use such a word (``bank_code``).

String values that look like URLs (``scheme://…``) are refused too: a URL is where a
single-use token hides. Record a route name or an id instead.

Values must be JSON: str, int, bool, None, lists and str-keyed dicts. Floats are refused
because PostgreSQL's jsonb may print a float differently than it was hashed. NUL and lone
surrogates in text become U+FFFD (jsonb cannot store them).
"""

from __future__ import annotations

import functools
import re
from typing import Any

SECRET_WORDS = frozenset(
    {
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "pwd",
        "otp",
        "otps",
        "otpauth",
        "code",
        "codes",
        "seed",
        "seeds",
        "secret",
        "secrets",
        "token",
        "tokens",
        "ticket",
        "tickets",
        "url",
        "urls",
        "uri",
        "uris",
        "link",
        "links",
        "answer",
        "answers",
        "pin",
        "pins",
        "key",
        "keys",
        "mac",
        "cookie",
        "cookies",
        "credential",
        "credentials",
    }
)

# Last words that make a key describe a secret without holding it.
METADATA_WORDS = frozenset(
    {
        "id",
        "ids",
        "count",
        "kind",
        "type",
        "purpose",
        "state",
        "status",
        "position",
        "positions",
        "length",
        "changed",
        "set",
        "required",
        "issued",
        "voided",
        "suspended",
        "cancelled",
        "expired",
        "revoked",
        "reused",
        "locked",
    }
)

# Public identifiers whose names contain a secret word.
PUBLIC_NAMES = frozenset({"bank_code", "branch_code"})

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_DEPTH = 8


class AuditDataError(ValueError):
    """``record()`` was given data the trail must not hold."""


def key_words(key: str) -> list[str]:
    """``"activationPassword_v2"`` → ``["activation", "password", "v", "2"]``."""
    return [w.lower() for w in _WORD.findall(key)]


# Keys are the few names the bank's code uses, so each verdict is worked out once.
@functools.lru_cache(maxsize=1024)
def key_is_secret(key: str) -> bool:
    if key.lower() in PUBLIC_NAMES:
        return False
    words = key_words(key)
    if not words or not SECRET_WORDS.intersection(words):
        return False
    return words[-1] not in METADATA_WORDS


def _storable(text: str) -> str:
    """Text both databases store as given: PostgreSQL's jsonb refuses NUL and lone
    surrogates, so an event carrying such input (from an attacker, say) would fail the
    whole change. They become U+FFFD, before hashing, so the digest matches the row."""
    return _UNSTORABLE.sub("\ufffd", text)


def _check(value: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise AuditDataError(f"audit data nests too deep at {path}")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        if _URL.search(value):
            raise AuditDataError(f"audit data must not carry URLs: {path}")
        return _storable(value)
    if isinstance(value, float):
        raise AuditDataError(f"audit data takes integers, not floats: {path}")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditDataError(f"audit data keys must be strings: {path}")
            if key_is_secret(key):
                raise AuditDataError(f"audit data must not carry secrets: {path}.{key}")
            out[_storable(key)] = _check(item, f"{path}.{key}", depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_check(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise AuditDataError(
        f"audit data takes str, int, bool, None, lists and dicts, not {type(value).__name__}: "
        f"{path}"
    )


def data_checked(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it will be stored and hashed, or :class:`AuditDataError`."""
    checked: dict[str, Any] = _check(data, "data", 0)
    return checked
