"""The id of the request being served, for log lines and audit records.

A context variable, so every log line and audit record written while a request is served
(in any thread or task that serves it) carries the same id. The id comes from the trusted
proxy's ``X-Request-ID`` when it is well-formed, else it is made here.
"""

from __future__ import annotations

import contextvars
import re
import secrets

# Letters, digits and the punctuation proxies use (UUIDs, nginx's $request_id, AWS's
# Root=1-…): nothing that could break a log line or carry a secret of any length.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=-]{7,127}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "netbank_request_id", default=None
)


def new() -> str:
    """A fresh id: 128 random bits in hex."""
    return secrets.token_hex(16)


def well_formed(value: str | None) -> str | None:
    """``value`` when it may be used as an id, else None."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return None


def current() -> str | None:
    """The id of the request being served, or None outside a request."""
    return _current.get()


def bind(value: str | None) -> contextvars.Token[str | None]:
    """Make ``value`` the current id; give the token to ``reset`` when the request ends."""
    return _current.set(value)


def reset(token: contextvars.Token[str | None]) -> None:
    _current.reset(token)
