"""Where a 振込 goes: the payee account as the Zengin network identifies it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.utils.translation import gettext_lazy as _

from netbank.banking.errors import BankingError
from netbank.banking.kana import KanaError, to_halfwidth_kana
from netbank.banking.models import ZENGIN_ACCOUNT_TYPE, Account, AccountType, Payee
from netbank.digits import is_ascii_digits


@dataclass(frozen=True)
class Destination:
    bank_code: str  # 金融機関コード, 4 digits
    branch_code: str  # 支店コード, 3 digits
    account_type: str  # AccountType value
    account_number: str  # 口座番号, 7 digits
    name_kana: str  # 受取人名, half-width katakana

    def __post_init__(self) -> None:
        for value, size, label in (
            (self.bank_code, 4, "bank_code"),
            (self.branch_code, 3, "branch_code"),
            (self.account_number, 7, "account_number"),
        ):
            if not is_ascii_digits(value, length=size):
                raise ValueError(f"{label} must be {size} ASCII digits")
        AccountType(self.account_type)

    @property
    def zengin_type(self) -> str:
        return ZENGIN_ACCOUNT_TYPE[AccountType(self.account_type)]

    @property
    def account_type_label(self) -> str:
        return str(AccountType(self.account_type).label)

    def same_account(self, other: Destination) -> bool:
        return (
            self.bank_code == other.bank_code
            and self.branch_code == other.branch_code
            and self.account_type == other.account_type
            and self.account_number == other.account_number
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "bank_code": self.bank_code,
            "branch_code": self.branch_code,
            "account_type": self.account_type,
            "account_number": self.account_number,
            "name_kana": self.name_kana,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Destination:
        return cls(
            bank_code=str(data["bank_code"]),
            branch_code=str(data["branch_code"]),
            account_type=str(data["account_type"]),
            account_number=str(data["account_number"]),
            name_kana=str(data["name_kana"]),
        )

    @classmethod
    def of_payee(cls, payee: Payee) -> Destination:
        return cls(
            bank_code=payee.bank_code,
            branch_code=payee.branch_code,
            account_type=payee.account_type,
            account_number=payee.account_number,
            name_kana=payee.name_kana,
        )

    @classmethod
    def of_account(cls, account: Account, bank_code: str) -> Destination:
        return cls(
            bank_code=bank_code,
            branch_code=account.branch_code,
            account_type=account.account_type,
            account_number=account.account_number,
            name_kana=account.holder_kana,
        )


def destination_named(destination: Destination) -> Destination:
    """``destination`` with its 受取人名 in the network's half-width カナ, as a 振込 and a
    登録先 both store it; BankingError (``bad_name``) when the name is empty or holds a
    character the network cannot carry."""
    try:
        name = to_halfwidth_kana(destination.name_kana)
    except KanaError as exc:
        raise BankingError(
            _("受取人名に使えない文字（%(char)s）があります。カタカナで入力してください。")
            % {"char": exc.char},
            code="bad_name",
        ) from exc
    if not name:
        raise BankingError(_("受取人名を入力してください。"), code="bad_name")
    return replace(destination, name_kana=name)
