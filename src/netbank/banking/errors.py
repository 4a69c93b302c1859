"""Refusals of banking services: each carries the message the customer reads."""

from __future__ import annotations

from django.utils.functional import Promise


class BankingError(Exception):
    """A refused operation. Nothing was changed (except counted failures).

    ``code`` is stable for tests and the audit trail; ``message`` is the
    customer-facing text (a lazy Japanese msgid).
    """

    code = "refused"

    def __init__(self, message: str | Promise, *, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code


class InsufficientFundsError(BankingError):
    code = "insufficient_funds"


class LimitExceededError(BankingError):
    code = "limit_exceeded"


class CustomerNotActiveError(BankingError):
    code = "customer_not_active"


class SigningRequiredError(BankingError):
    code = "signing_required"


class SigningRejectedError(BankingError):
    code = "signing_rejected"


class NewTokenHoldError(BankingError):
    code = "new_token_hold"


class LedgerImbalanceError(Exception):
    """A journal entry whose postings do not sum to zero: a programming error."""
