"""Reads of tokens. Writes go through otp.tokens.services and otp.verification."""

from __future__ import annotations

from netbank.customers.models import Customer
from netbank.otp.models import Token

LIVE_STATES = (Token.State.ISSUED, Token.State.ACTIVATED, Token.State.IN_USE)


# "The token in use" when a customer has more than one in use (a re-issue's moment, or
# rows restored from a backup): the one put in use last, and of those the newer row. The
# ORM ordering and its SQL form (over the alias ``t``) must stay the same order.
IN_USE_ORDER = ("-in_use_at", "-pk")
IN_USE_ORDER_SQL = "ORDER BY t.in_use_at DESC, t.id DESC"


def token_in_use(customer: Customer) -> Token | None:
    """The token whose OTP the customer must give at login, if 利用開始 is done."""
    return (
        Token.objects.filter(customer=customer, state=Token.State.IN_USE)
        .order_by(*IN_USE_ORDER)
        .first()
    )


def token_pending(customer: Customer) -> Token | None:
    """The newest issued or activated token that has not yet reached 利用開始."""
    return (
        Token.objects.filter(
            customer=customer, state__in=(Token.State.ISSUED, Token.State.ACTIVATED)
        )
        .order_by("-created_at")
        .first()
    )


def otp_required(customer: Customer) -> bool:
    return Token.objects.filter(
        customer=customer, state__in=(Token.State.IN_USE, Token.State.SUSPENDED)
    ).exists()
