"""The 取引認証 signing question, format 2: one encoding for the bank and the token app.

Suite ``OCRA-1:HOTP-SHA256-8:QN54``; the question is 54 decimal digits, every field
fixed-width (docs/banking.md section 4, docs/protocols.md 4.2)::

    purpose(1) bank(4) branch(3) type(1) account(7) amount(12)
    debit branch(3) debit account(7) date(8) nonce(8)

purpose 1 = 振込, 2 = 登録先の登録, 3 = 振込限度額の引き上げ (the new limit in the
amount field); the debit account is the customer's own account a 振込 is paid from;
the date is the 振込予約 day as YYYYMMDD, ``00000000`` for a 振込 executed now. Fields a
purpose does not use are zeros. The first digit is never 0, so every question is a
54-digit number and its OCRA encoding is one-to-one. ``build_question`` and
``describe_question`` are inverses, and the parser refuses anything that does not
rebuild to the same digits, so the app shows exactly what it signs.

Pure: no Django, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from netbank.digits import is_ascii_digits

FORMAT_VERSION: Final = 2
SUITE: Final = "OCRA-1:HOTP-SHA256-8:QN54"
QUESTION_DIGITS: Final = 54
NONCE_DIGITS: Final = 8
AMOUNT_DIGITS: Final = 12
MAX_AMOUNT: Final = 10**AMOUNT_DIGITS - 1
IMMEDIATE_DATE: Final = "00000000"

PURPOSE_TRANSFER: Final = "1"
PURPOSE_PAYEE: Final = "2"
PURPOSE_LIMIT: Final = "3"
PURPOSES: Final = frozenset({PURPOSE_TRANSFER, PURPOSE_PAYEE, PURPOSE_LIMIT})
# The Zengin account-type digits: 1 普通, 2 当座, 4 貯蓄.
ACCOUNT_TYPES: Final = frozenset({"1", "2", "4"})


class SigningQuestionError(ValueError):
    """The operation or question is not one the format allows; nothing is signed."""


@dataclass(frozen=True)
class SigningRequest:
    """What one question asks the customer to approve."""

    purpose: str  # "1" transfer, "2" payee registration, "3" limit raise
    bank_code: str
    branch_code: str
    account_type: str  # Zengin digit
    account_number: str
    amount: int  # yen; the new daily limit for purpose 3; 0 for purpose 2
    nonce: str  # 取引番号 shown on the bank's screen
    # The customer's own account a 振込 is paid from ("000"/"0000000" otherwise).
    debit_branch_code: str = "000"
    debit_account_number: str = "0000000"
    # The 振込予約 day as YYYYMMDD; "00000000": executed now (and for purposes 2, 3).
    execution_date: str = IMMEDIATE_DATE

    @property
    def scheduled_for(self) -> date | None:
        """The 振込予約 day, or None for a 振込 executed now."""
        if self.execution_date == IMMEDIATE_DATE:
            return None
        return _parse_date(self.execution_date)


def _digits(value: object, size: int, label: str) -> str:
    if not is_ascii_digits(value, length=size):
        raise SigningQuestionError(f"{label} must be {size} digits")
    return value


def _parse_date(text: str) -> date:
    _digits(text, 8, "the date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise SigningQuestionError("the date is not a calendar day") from None


def date_field(day: date | None) -> str:
    """YYYYMMDD of a 振込予約 day, ``00000000`` for a 振込 executed now."""
    if day is None:
        return IMMEDIATE_DATE
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def build_question(request: SigningRequest) -> str:
    """The 54-digit question for a request (the inverse of ``describe_question``)."""
    if request.purpose not in PURPOSES:
        raise SigningQuestionError("purpose must be 1, 2 or 3")
    _digits(request.nonce, NONCE_DIGITS, "the nonce (取引番号)")
    if request.purpose == PURPOSE_LIMIT:
        if (request.bank_code, request.branch_code, request.account_number) != (
            "0000",
            "000",
            "0000000",
        ) or request.account_type != "0":
            raise SigningQuestionError("a limit question carries no payee")
        payee = "0" * 15
    else:
        if request.account_type not in ACCOUNT_TYPES:
            raise SigningQuestionError("account type must be 1 (普通), 2 (当座) or 4 (貯蓄)")
        payee = (
            _digits(request.bank_code, 4, "bank code")
            + _digits(request.branch_code, 3, "branch code")
            + request.account_type
            + _digits(request.account_number, 7, "account number")
        )
    if request.purpose == PURPOSE_PAYEE:
        if request.amount != 0:
            raise SigningQuestionError("a payee registration carries no amount")
    elif (
        not isinstance(request.amount, int)
        or isinstance(request.amount, bool)
        or not 0 < request.amount <= MAX_AMOUNT
    ):
        raise SigningQuestionError("amount must be 1 to 999,999,999,999 yen")
    debit = _digits(request.debit_branch_code, 3, "debit branch code") + _digits(
        request.debit_account_number, 7, "debit account number"
    )
    day = _digits(request.execution_date, 8, "the date")
    if request.purpose == PURPOSE_TRANSFER:
        if day != IMMEDIATE_DATE:
            _parse_date(day)
    elif debit != "0" * 10 or day != IMMEDIATE_DATE:
        raise SigningQuestionError("only a transfer carries a debit account and a date")
    return (
        request.purpose
        + payee
        + f"{request.amount:0{AMOUNT_DIGITS}d}"
        + debit
        + day
        + request.nonce
    )


def describe_question(question: str) -> SigningRequest:
    """Parse a question; refuses anything that does not rebuild to the same digits."""
    _digits(question, QUESTION_DIGITS, "a signing question")
    purpose = question[0]
    if purpose not in PURPOSES:
        raise SigningQuestionError("unknown purpose digit")
    request = SigningRequest(
        purpose=purpose,
        bank_code=question[1:5],
        branch_code=question[5:8],
        account_type=question[8],
        account_number=question[9:16],
        amount=int(question[16:28]),
        debit_branch_code=question[28:31],
        debit_account_number=question[31:38],
        execution_date=question[38:46],
        nonce=question[46:54],
    )
    if build_question(request) != question:
        raise SigningQuestionError("the question is not in the bank's format")
    return request
