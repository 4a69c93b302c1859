"""取引認証 on the token app's side: read a signing question, show it, sign it.

The question format is the bank's (docs/banking.md, "Transaction signing"), format 2:
suite ``OCRA-1:HOTP-SHA256-8:QN54`` over 54 decimal digits::

    purpose(1) bank(4) branch(3) type(1) account(7) amount(12)
    debit branch(3) debit account(7) date(8) nonce(8)

(the date is the 振込予約 day as YYYYMMDD, ``00000000`` for a 振込 executed now).
The app must show the customer what it is about to sign as read from the question
itself (``describe_question``), never from text sent alongside it, so a hijacked
browser or a tampered message cannot show one operation and have another signed.
Codes are made with the OCRA subkey of the signing key (``netbank.oath.txsign``).
Pure: netbank.oath only, no Django, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from netbank.oath.errors import OathError
from netbank.oath.ocra import ocra
from netbank.oath.txsign import ocra_key, pending_mac_text

FORMAT_VERSION: Final = 2
SUITE: Final = "OCRA-1:HOTP-SHA256-8:QN54"
QUESTION_DIGITS: Final = 54
SIGNING_KEY_BYTES: Final = 32
IMMEDIATE_DATE: Final = "00000000"

PURPOSE_TRANSFER: Final = "1"
PURPOSE_PAYEE: Final = "2"
PURPOSE_LIMIT: Final = "3"
PURPOSE_LABELS: Final = {
    PURPOSE_TRANSFER: "振込",
    PURPOSE_PAYEE: "登録先の登録",
    PURPOSE_LIMIT: "振込限度額の引き上げ",
}
# The Zengin account-type digit.
ACCOUNT_TYPE_LABELS: Final = {"1": "普通", "2": "当座", "4": "貯蓄"}


class SigningQuestionError(ValueError):
    """The question is not one the bank's format allows; the app signs nothing."""


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
    def purpose_label(self) -> str:
        return PURPOSE_LABELS[self.purpose]

    @property
    def account_type_label(self) -> str:
        return ACCOUNT_TYPE_LABELS[self.account_type]

    @property
    def scheduled_for(self) -> date | None:
        """The 振込予約 day, or None for a 振込 executed now."""
        if self.execution_date == IMMEDIATE_DATE:
            return None
        return _parse_date(self.execution_date)

    @property
    def execution_date_label(self) -> str:
        day = self.scheduled_for
        return "即時" if day is None else f"{day.year}年{day.month}月{day.day}日"

    def lines(self) -> list[tuple[str, str]]:
        """Label/value pairs for the confirmation screen."""
        rows = [("お取引", self.purpose_label)]
        if self.purpose == PURPOSE_TRANSFER:
            rows += [
                ("支払口座", f"{self.debit_branch_code}-{self.debit_account_number}"),
                ("振込指定日", self.execution_date_label),
            ]
        if self.purpose in (PURPOSE_TRANSFER, PURPOSE_PAYEE):
            rows += [
                ("金融機関コード", self.bank_code),
                ("支店コード", self.branch_code),
                ("科目", self.account_type_label),
                ("口座番号", self.account_number),
            ]
        if self.purpose == PURPOSE_TRANSFER:
            rows.append(("金額", f"{self.amount:,}円"))
        if self.purpose == PURPOSE_LIMIT:
            rows.append(("新しい振込限度額", f"{self.amount:,}円"))
        rows.append(("取引番号", self.nonce))
        return rows


def _digits(value: str, size: int, label: str) -> str:
    if (
        not isinstance(value, str)
        or len(value) != size
        or not value.isascii()
        or not value.isdigit()
    ):
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
    if request.purpose not in PURPOSE_LABELS:
        raise SigningQuestionError("purpose must be 1, 2 or 3")
    _digits(request.nonce, 8, "the 取引番号")
    if request.purpose == PURPOSE_LIMIT:
        payee = "0" * 15
    else:
        if request.account_type not in ACCOUNT_TYPE_LABELS:
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
    elif isinstance(request.amount, bool) or not 0 < request.amount < 10**12:
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
    return request.purpose + payee + f"{request.amount:012d}" + debit + day + request.nonce


def describe_question(question: str) -> SigningRequest:
    """Parse a question; refuses anything that does not rebuild to the same digits."""
    _digits(question, QUESTION_DIGITS, "a signing question")
    purpose = question[0]
    if purpose not in PURPOSE_LABELS:
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
    if purpose == PURPOSE_LIMIT and question[1:16] != "0" * 15:
        raise SigningQuestionError("a limit question carries no payee")
    if build_question(request) != question:
        raise SigningQuestionError("the question is not in the bank's format")
    return request


def sign_question(signing_key: bytes, question: str) -> str:
    """The 8-digit 取引認証番号 for a well-formed question."""
    describe_question(question)
    if len(signing_key) != SIGNING_KEY_BYTES:
        raise OathError("the transaction-signing key must be 32 bytes")
    return ocra(SUITE, ocra_key(signing_key), question=question)


def sign_transaction(
    signing_key: bytes,
    *,
    bank_code: str,
    branch_code: str,
    account_type: str,
    account_number: str,
    amount: int,
    debit_branch_code: str,
    debit_account_number: str,
    scheduled_for: date | None = None,
    nonce: str,
) -> str:
    """Sign a 振込 typed from the bank's screen (account_type is the Zengin digit;
    ``scheduled_for`` the 振込予約 day, None for a 振込 executed now)."""
    request = SigningRequest(
        PURPOSE_TRANSFER,
        bank_code,
        branch_code,
        account_type,
        account_number,
        amount,
        nonce,
        debit_branch_code=debit_branch_code,
        debit_account_number=debit_account_number,
        execution_date=date_field(scheduled_for),
    )
    return sign_question(signing_key, build_question(request))


def sign_payee(
    signing_key: bytes,
    *,
    bank_code: str,
    branch_code: str,
    account_type: str,
    account_number: str,
    nonce: str,
) -> str:
    """Sign a 登録先 registration."""
    request = SigningRequest(
        PURPOSE_PAYEE, bank_code, branch_code, account_type, account_number, 0, nonce
    )
    return sign_question(signing_key, build_question(request))


def sign_limit(signing_key: bytes, *, new_limit: int, nonce: str) -> str:
    """Sign a raise of the daily 振込限度額 to ``new_limit`` yen."""
    request = SigningRequest(PURPOSE_LIMIT, "0000", "000", "0", "0000000", new_limit, nonce)
    return sign_question(signing_key, build_question(request))


PENDING_PATH: Final = "/banking/api/v1/signing/pending"


def pending_request_mac(signing_key: bytes, *, service_id: str, user_id: str, time: int) -> str:
    """The MAC that authenticates a fetch of the pending question (docs/banking.md), under
    the signing key's own subkey for this purpose (``netbank.oath.txsign``)."""
    return pending_mac_text(signing_key, service_id=service_id, user_id=user_id, time=str(time))


def pending_request(
    signing_key: bytes, *, service_id: str, user_id: str, time: int
) -> dict[str, str]:
    """The JSON body of ``POST /banking/api/v1/signing/pending`` at unix ``time``."""
    return {
        "service_id": service_id,
        "user_id": user_id,
        "time": str(int(time)),
        "mac": pending_request_mac(
            signing_key, service_id=service_id, user_id=user_id, time=int(time)
        ),
    }
