"""The console's own policy. Override any key with ``NETBANK_HELPDESK_CONSOLE`` in
settings (a dict); ``NETBANK_HELPDESK`` is the helpdesk's contact data shown to
customers, not this."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Operators are logged out after this long without a console request.
    "idle_seconds": 10 * 60,
    # ... and after this long in any case (a shift re-authenticates).
    "absolute_seconds": 8 * 60 * 60,
    # Consecutive wrong logins (password or OTP) before the operator is locked; a
    # supervisor or `netbank create-operator --reenrol` lifts it.
    "max_login_failures": 5,
    "login_per_ip_per_minute": 10,
    # A 利用再開 request not approved within this time must be asked again (with a new
    # identity check).
    "lift_request_ttl_seconds": 24 * 60 * 60,
    # Operator OTP: TOTP with authenticator defaults, ±1 step.
    "otp_digits": 6,
    "otp_period": 30,
    "otp_window": 1,
    # The customer page's session list reads at most this many live sessions.
    "session_scan_limit": 5000,
    "search_results": 50,
}


def console_setting(name: str) -> Any:
    overrides = getattr(settings, "NETBANK_HELPDESK_CONSOLE", None) or {}
    return overrides.get(name, DEFAULTS[name])


def console_int(name: str) -> int:
    return int(console_setting(name))
