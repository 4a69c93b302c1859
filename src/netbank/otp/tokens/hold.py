"""The hold after a token issue: until when the customer of a new token may not pay a
new payee, register a 登録先 or raise the 振込限度額. banking enforces it; the issue
notice mail names its end, so a customer who did not ask for the token knows how long
they have to stop it (docs/banking.md "Who can sign, and the hold after a token issue").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from netbank.otp.models import Token

# settings.NETBANK_BANKING["new_token_hold_seconds"] overrides it (as for every banking key).
HOLD_SECONDS_DEFAULT = 24 * 3600


def hold_seconds() -> int:
    overrides: dict[str, Any] = getattr(settings, "NETBANK_BANKING", {})
    return int(overrides.get("new_token_hold_seconds", HOLD_SECONDS_DEFAULT))


def token_hold_until(token: Token) -> datetime:
    """When the hold after ``token``'s issue ends (passed or not)."""
    return token.created_at + timedelta(seconds=hold_seconds())
