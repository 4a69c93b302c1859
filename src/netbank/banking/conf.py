"""Banking settings with their defaults (settings.NETBANK_BANKING overrides any key)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from netbank.otp.tokens.hold import HOLD_SECONDS_DEFAULT

DEFAULTS: dict[str, Any] = {
    # 金融機関コード of this bank: a 振込 to this code credits one of our own accounts.
    "bank_code": "9999",
    "bank_name_kana": "ﾈﾂﾄﾊﾞﾝｸ",
    # 振込限度額 (per customer per calendar day in Japan), yen.
    "default_daily_limit": 1_000_000,
    "max_daily_limit": 10_000_000,
    # Customers who cannot sign (a standard authenticator app, or no token app at all)
    # are capped here whatever limit they set.
    "unsigned_daily_limit": 100_000,
    # A 振込 above this amount needs a signing code even to a registered payee.
    "signing_threshold": 300_000,
    # Transfers to new payees, payee registration and limit raises wait this long
    # after the in-use token was issued (DESIGN.md "Security policy").
    "new_token_hold_seconds": HOLD_SECONDS_DEFAULT,
    # Transfers to other banks credit one of this many clearing accounts (by
    # customer), so that they do not all wait for one row lock.
    "clearing_shards": 8,
    "challenge_ttl_seconds": 5 * 60,
    "schedule_max_days": 60,
    "statement_page_size": 20,
    "statement_csv_max_rows": 10_000,
}


def banking_setting(name: str) -> Any:
    overrides: dict[str, Any] = getattr(settings, "NETBANK_BANKING", {})
    return overrides.get(name, DEFAULTS[name])


def int_setting(name: str) -> int:
    return int(banking_setting(name))
