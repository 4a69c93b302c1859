"""What the 取引認証 screen and ``netbank-token sign`` show: the operation as read from
the question itself (``signing.describe_question``), in the app's language."""

from __future__ import annotations

import unicodedata
from typing import Any

from netbank.token_app.messages import Messages
from netbank.token_app.signing import (
    PURPOSE_LIMIT,
    PURPOSE_PAYEE,
    PURPOSE_TRANSFER,
    SigningQuestionError,
    SigningRequest,
    describe_question,
)


def normalise_question(text: str) -> str:
    """The 36 digits as the bank's screen shows them, in groups, perhaps full-width."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if c not in " -\t\u3000")


def read_question(text: str) -> tuple[str, SigningRequest]:
    """Raises ``SigningQuestionError`` for anything outside the bank's format."""
    question = normalise_question(text)
    return question, describe_question(question)


def operation_lines(request: SigningRequest, msg: Messages) -> list[tuple[str, str]]:
    rows = [(msg("sign_purpose"), msg(f"sign_purpose_{request.purpose}"))]
    if request.purpose in (PURPOSE_TRANSFER, PURPOSE_PAYEE):
        rows += [
            (msg("sign_bank_code"), request.bank_code),
            (msg("sign_branch_code"), request.branch_code),
            (msg("sign_account_type"), msg(f"sign_type_{request.account_type}")),
            (msg("sign_account_number"), request.account_number),
        ]
    if request.purpose == PURPOSE_TRANSFER:
        rows.append((msg("sign_amount"), msg("sign_yen", amount=f"{request.amount:,}")))
    if request.purpose == PURPOSE_LIMIT:
        rows.append((msg("sign_new_limit"), msg("sign_yen", amount=f"{request.amount:,}")))
    rows.append((msg("sign_nonce"), request.nonce))
    return rows


def operation_json(request: SigningRequest) -> dict[str, Any]:
    data: dict[str, Any] = {
        "purpose": request.purpose,
        "purpose_label": request.purpose_label,
        "nonce": request.nonce,
    }
    if request.purpose in (PURPOSE_TRANSFER, PURPOSE_PAYEE):
        data.update(
            bank_code=request.bank_code,
            branch_code=request.branch_code,
            account_type=request.account_type,
            account_type_label=request.account_type_label,
            account_number=request.account_number,
        )
    if request.purpose in (PURPOSE_TRANSFER, PURPOSE_LIMIT):
        data["amount"] = request.amount
    return data


__all__ = [
    "SigningQuestionError",
    "normalise_question",
    "operation_json",
    "operation_lines",
    "read_question",
]
