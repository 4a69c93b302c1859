"""What the 取引認証 screen and ``netbank-token sign`` show: the operation as read from
the question itself (``signing.describe_question``), in the app's language."""

from __future__ import annotations

import json
import unicodedata
import urllib.parse
from collections.abc import Callable
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
from netbank.token_app.vault import TokenRecord


def normalise_question(text: str) -> str:
    """The 54 digits as the bank's screen shows them, in groups, perhaps full-width."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if c not in " -\t\u3000")


def read_question(text: str) -> tuple[str, SigningRequest]:
    """Raises ``SigningQuestionError`` for anything outside the bank's format."""
    question = normalise_question(text)
    return question, describe_question(question)


class FetchError(Exception):
    """The pending question could not be fetched. ``code``: "unauthorized" (the bank does
    not know this token's key: not in use, or another bank), "transport" (unreachable or
    not the API)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


Transport = Callable[[str, bytes], tuple[int, bytes]]


def fetch_pending_question(
    token: TokenRecord, *, now: float, transport: Transport | None = None
) -> str | None:
    """The bank's newest pending signing question for this token, or None.

    The request is authenticated with a MAC under the token's signing key
    (docs/banking.md); its time is the bank's as far as the app knows it (device clock +
    the last measured offset), because the bank accepts only ±120 s. The answer is only a
    question: what the app shows is what ``read_question`` parses from it.
    """
    from netbank.token_app.client import NetworkError, urllib_transport
    from netbank.token_app.signing import PENDING_PATH, pending_request

    parsed = urllib.parse.urlsplit(token.bank_url)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise FetchError("transport", f"not a bank URL: {token.bank_url!r}")
    send = transport or urllib_transport(timeout=10.0)
    body = pending_request(
        token.signing_key,
        service_id=token.service_id,
        user_id=token.user_id,
        time=int(now + token.server_time_offset),
    )
    try:
        status, raw = send(token.bank_url.rstrip("/") + PENDING_PATH, json.dumps(body).encode())
    except NetworkError as exc:
        raise FetchError("transport", str(exc)) from None
    if status == 401:
        raise FetchError("unauthorized")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise FetchError("transport", f"HTTP {status}: not JSON") from None
    if status != 200 or not isinstance(data, dict) or not isinstance(data.get("pending"), bool):
        raise FetchError("transport", f"HTTP {status}: not the signing API")
    if not data["pending"]:
        return None
    question = data.get("question")
    if not isinstance(question, str):
        raise FetchError("transport", "the answer has no question")
    return question


def operation_lines(request: SigningRequest, msg: Messages) -> list[tuple[str, str]]:
    rows = [(msg("sign_purpose"), msg(f"sign_purpose_{request.purpose}"))]
    if request.purpose == PURPOSE_TRANSFER:
        # Bound into the question (format 2): which of the customer's accounts pays, and
        # when; malware cannot change either under a valid code.
        day = request.scheduled_for
        rows += [
            (
                msg("sign_debit_account"),
                f"{request.debit_branch_code}-{request.debit_account_number}",
            ),
            (
                msg("sign_execution_date"),
                msg("sign_date_now")
                if day is None
                else msg("sign_date", year=day.year, month=day.month, day=day.day),
            ),
        ]
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
    if request.purpose == PURPOSE_TRANSFER:
        day = request.scheduled_for
        data.update(
            debit_branch_code=request.debit_branch_code,
            debit_account_number=request.debit_account_number,
            scheduled_for=day.isoformat() if day else None,
        )
    return data


__all__ = [
    "FetchError",
    "SigningQuestionError",
    "fetch_pending_question",
    "normalise_question",
    "operation_json",
    "operation_lines",
    "read_question",
]
