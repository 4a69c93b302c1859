"""取引認証 on the token app's side: read a signing question, show it, sign it.

The question format is the bank's (docs/banking.md, "Transaction signing"): suite
``OCRA-1:HOTP-SHA256-8:QN36`` over 36 decimal digits::

    purpose(1) bank(4) branch(3) type(1) account(7) amount(12) nonce(8)

The app must show the customer what it is about to sign as read from the question
itself (``describe_question``), never from text sent alongside it, so a hijacked
browser or a tampered message cannot show one payee and have another signed.
Pure: netbank.oath only, no Django, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

from netbank.digits import is_ascii_digits
from netbank.oath.errors import OathError
from netbank.oath.ocra import ocra

SUITE: Final = "OCRA-1:HOTP-SHA256-8:QN36"
QUESTION_DIGITS: Final = 36
SIGNING_KEY_BYTES: Final = 32

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

    @property
    def purpose_label(self) -> str:
        return PURPOSE_LABELS[self.purpose]

    @property
    def account_type_label(self) -> str:
        return ACCOUNT_TYPE_LABELS[self.account_type]

    def lines(self) -> list[tuple[str, str]]:
        """Label/value pairs for the confirmation screen."""
        rows = [("お取引", self.purpose_label)]
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
    if not is_ascii_digits(value, length=size):
        raise SigningQuestionError(f"{label} must be {size} digits")
    return value


def build_question(request: SigningRequest) -> str:
    """The 36-digit question for a request (the inverse of ``describe_question``)."""
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
    return request.purpose + payee + f"{request.amount:012d}" + request.nonce


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
        nonce=question[28:36],
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
    return ocra(SUITE, signing_key, question=question)


def sign_transaction(
    signing_key: bytes,
    *,
    bank_code: str,
    branch_code: str,
    account_type: str,
    account_number: str,
    amount: int,
    nonce: str,
) -> str:
    """Sign a 振込 typed from the bank's screen (account_type is the Zengin digit)."""
    request = SigningRequest(
        PURPOSE_TRANSFER, bank_code, branch_code, account_type, account_number, amount, nonce
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
PENDING_CONTEXT: Final = b"netbank-signing-pending/1\x00"


def pending_request_mac(signing_key: bytes, *, service_id: str, user_id: str, time: int) -> str:
    """The MAC that authenticates a fetch of the pending question (docs/banking.md)."""
    message = PENDING_CONTEXT + f"{service_id}\x00{user_id}\x00{time}".encode("ascii")
    digest = hmac.new(signing_key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


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
