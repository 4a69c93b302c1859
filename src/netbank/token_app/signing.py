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

from dataclasses import asdict, dataclass
from datetime import date
from typing import Final

from netbank.oath import txquestion
from netbank.oath.errors import OathError
from netbank.oath.ocra import ocra
from netbank.oath.txquestion import (
    IMMEDIATE_DATE,
    PURPOSE_LIMIT,
    PURPOSE_PAYEE,
    PURPOSE_TRANSFER,
    QUESTION_DIGITS,
    SUITE,
    SigningQuestionError,
    build_question,
    date_field,
)
from netbank.oath.txsign import ocra_key, pending_mac_text

__all__ = [
    "IMMEDIATE_DATE",
    "PURPOSE_LIMIT",
    "PURPOSE_PAYEE",
    "PURPOSE_TRANSFER",
    "QUESTION_DIGITS",
    "SUITE",
    "SigningQuestionError",
    "SigningRequest",
    "build_question",
    "date_field",
    "describe_question",
    "sign_question",
]

SIGNING_KEY_BYTES: Final = 32

PURPOSE_LABELS: Final = {
    PURPOSE_TRANSFER: "振込",
    PURPOSE_PAYEE: "登録先の登録",
    PURPOSE_LIMIT: "振込限度額の引き上げ",
}
# The Zengin account-type digit.
ACCOUNT_TYPE_LABELS: Final = {"1": "普通", "2": "当座", "4": "貯蓄"}


@dataclass(frozen=True)
class SigningRequest(txquestion.SigningRequest):
    """A parsed question with the labels the app shows for it."""

    @property
    def purpose_label(self) -> str:
        return PURPOSE_LABELS[self.purpose]

    @property
    def account_type_label(self) -> str:
        return ACCOUNT_TYPE_LABELS[self.account_type]

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


def describe_question(question: str) -> SigningRequest:
    """Parse a question (``netbank.oath.txquestion``) for the app's confirmation screen."""
    return SigningRequest(**asdict(txquestion.describe_question(question)))


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
