"""Reads of tokens. Writes go through otp.tokens.services and otp.verification."""

from __future__ import annotations

from netbank.customers.models import Customer
from netbank.otp.models import Token

LIVE_STATES = (Token.State.ISSUED, Token.State.ACTIVATED, Token.State.IN_USE)


def token_in_use(customer: Customer) -> Token | None:
    """The token whose OTP the customer must give at login, if 利用開始 is done."""
    return (
        Token.objects.filter(customer=customer, state=Token.State.IN_USE)
        .order_by("-in_use_at")
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
