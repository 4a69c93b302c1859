"""Forms of the banking screens: they check the input's shape, convert what a customer
reasonably types (full-width digits, commas, 円, full-width katakana) and say clearly
what is wrong. The rules (balance, limit, signing) live in the services."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from netbank.banking.kana import MAX_LENGTH as NAME_MAX
from netbank.banking.kana import KanaError, to_halfwidth_kana
from netbank.banking.models import AccountType
from netbank.customers.validators import PASSWORD_MAX, validate_password_input
from netbank.web.api_json import JsonApiError, parse_json_object

# An assertion is a few hundred bytes of base64url; a passkey with a large user handle
# or extension output stays well below this.
PASSKEY_RESPONSE_MAX = 16_000

MAX_AMOUNT_DIGITS = 12
_DIGITS = re.compile(r"[0-9]+")
_SPACES = re.compile(r"[\s\u3000]+")


def _raw(form: forms.Form, name: str) -> str:
    value = form.data.get(form.add_prefix(name), "")
    return value if isinstance(value, str) else ""


def normalize_digits(raw: str) -> str:
    """Full-width digits and spaces become half-width; surrounding spaces go."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", raw))


def parse_yen(raw: str, label: str) -> int:
    """An amount of yen as customers type it: 「10000」「１０，０００」「10,000円」."""
    value = normalize_digits(raw).removesuffix("円").replace(",", "")
    if value == "":
        raise ValidationError(gettext("%(label)sを入力してください。") % {"label": label})
    if value.startswith("-") and _DIGITS.fullmatch(value[1:]):
        raise ValidationError(gettext("%(label)sは1円以上で入力してください。") % {"label": label})
    if not _DIGITS.fullmatch(value):
        raise ValidationError(
            gettext("%(label)sは数字で入力してください（例: 10000）。") % {"label": label}
        )
    if len(value.lstrip("0")) > MAX_AMOUNT_DIGITS:
        raise ValidationError(gettext("%(label)sが大きすぎます。") % {"label": label})
    amount = int(value)
    if amount <= 0:
        raise ValidationError(gettext("%(label)sは1円以上で入力してください。") % {"label": label})
    return amount


def parse_fixed_digits(raw: str, size: int, label: str) -> str:
    value = normalize_digits(raw)
    if value == "":
        raise ValidationError(gettext("%(label)sを入力してください。") % {"label": label})
    if not _DIGITS.fullmatch(value) or len(value) != size:
        raise ValidationError(
            gettext("%(label)sは%(size)s桁の数字で入力してください。")
            % {"label": label, "size": size}
        )
    return value


def parse_name_kana(raw: str, label: str) -> str:
    if raw.strip(" \u3000") == "":
        raise ValidationError(gettext("%(label)sを入力してください。") % {"label": label})
    try:
        name = to_halfwidth_kana(raw)
    except KanaError as exc:
        raise ValidationError(
            gettext("%(label)sに使えない文字（%(char)s）があります。カタカナで入力してください。")
            % {"label": label, "char": exc.char}
        ) from exc
    if len(name) > NAME_MAX:
        raise ValidationError(
            gettext("%(label)sは半角%(max)s文字以内で入力してください。")
            % {"label": label, "max": NAME_MAX}
        )
    return name


class _RawField(forms.CharField):
    """Checks are done by the form's clean_<name> on the raw string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)


def _amount_field(label: str | Promise) -> _RawField:
    return _RawField(
        label=label,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "20"}
        ),
    )


def _digits_field(label: str | Promise, size: int) -> _RawField:
    return _RawField(
        label=label,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "maxlength": str(size * 2),
                "size": str(size + 2),
            }
        ),
    )


class _AccountChoiceMixin:
    def account_choices(self, accounts: list[Any]) -> list[tuple[str, str]]:
        # One translatable string: xgettext cannot see gettext() calls inside f-strings.
        return [
            (
                str(a.pk),
                gettext("%(account)s（残高 %(balance)s円）")
                % {
                    "account": f"{a.get_account_type_display()} {a.branch_code}-{a.account_number}",
                    "balance": f"{a.balance:,}",
                },
            )
            for a in accounts
        ]


class FurikaeForm(_AccountChoiceMixin, forms.Form):
    """振替（入力）: between two of the customer's own accounts."""

    from_account = forms.ChoiceField(label=_("支払口座"))
    to_account = forms.ChoiceField(label=_("入金口座"))
    amount = _amount_field(_("振替金額（円）"))

    def __init__(self, *args: Any, accounts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = self.account_choices(accounts)
        self.fields["from_account"].choices = choices  # type: ignore[attr-defined]
        self.fields["to_account"].choices = choices  # type: ignore[attr-defined]
        self.fields["from_account"].error_messages["invalid_choice"] = _("口座を選択してください。")
        self.fields["to_account"].error_messages["invalid_choice"] = _("口座を選択してください。")

    def clean_amount(self) -> int:
        return parse_yen(_raw(self, "amount"), gettext("振替金額"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("from_account") and cleaned.get("from_account") == cleaned.get("to_account"):
            self.add_error("to_account", gettext("支払口座と入金口座に同じ口座は指定できません。"))
        return cleaned


class FurikomiForm(_AccountChoiceMixin, forms.Form):
    """振込（入力）: to a registered payee (fields fixed) or a new one (typed)."""

    from_account = forms.ChoiceField(label=_("支払口座"))
    bank_code = _digits_field(_("金融機関コード"), 4)
    branch_code = _digits_field(_("支店コード"), 3)
    account_type = forms.ChoiceField(
        label=_("科目"), choices=AccountType.choices, initial=AccountType.ORDINARY
    )
    account_number = _digits_field(_("口座番号"), 7)
    name_kana = _RawField(
        label=_("受取人名"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": "60"}),
    )
    amount = _amount_field(_("振込金額（円）"))
    scheduled_for = forms.ChoiceField(label=_("振込指定日"))

    def __init__(
        self,
        *args: Any,
        accounts: list[Any],
        business_days: list[date],
        payee_fixed: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.payee_fixed = payee_fixed
        self.fields["from_account"].choices = self.account_choices(accounts)  # type: ignore[attr-defined]
        self.fields["from_account"].error_messages["invalid_choice"] = _("口座を選択してください。")
        self.fields["scheduled_for"].choices = [  # type: ignore[attr-defined]
            ("", gettext("本日（今すぐ振り込む）")),
            *[(d.isoformat(), d.strftime("%Y/%m/%d")) for d in business_days],
        ]
        self.fields["scheduled_for"].required = False
        self.fields["scheduled_for"].error_messages["invalid_choice"] = _(
            "振込指定日は一覧の営業日から選択してください。"
        )
        self.fields["account_type"].error_messages["invalid_choice"] = _("科目を選択してください。")
        if payee_fixed:
            for name in ("bank_code", "branch_code", "account_type", "account_number", "name_kana"):
                del self.fields[name]

    def clean_bank_code(self) -> str:
        return parse_fixed_digits(_raw(self, "bank_code"), 4, gettext("金融機関コード"))

    def clean_branch_code(self) -> str:
        return parse_fixed_digits(_raw(self, "branch_code"), 3, gettext("支店コード"))

    def clean_account_number(self) -> str:
        return parse_fixed_digits(_raw(self, "account_number"), 7, gettext("口座番号"))

    def clean_name_kana(self) -> str:
        return parse_name_kana(_raw(self, "name_kana"), gettext("受取人名"))

    def clean_amount(self) -> int:
        return parse_yen(_raw(self, "amount"), gettext("振込金額"))

    def clean_scheduled_for(self) -> date | None:
        value = self.cleaned_data.get("scheduled_for") or ""
        return date.fromisoformat(value) if value else None


class PayeeForm(forms.Form):
    """登録先の登録（入力）."""

    bank_code = _digits_field(_("金融機関コード"), 4)
    branch_code = _digits_field(_("支店コード"), 3)
    account_type = forms.ChoiceField(
        label=_("科目"), choices=AccountType.choices, initial=AccountType.ORDINARY
    )
    account_number = _digits_field(_("口座番号"), 7)
    name_kana = _RawField(
        label=_("受取人名"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": "60"}),
    )
    nickname = forms.CharField(
        label=_("登録名（任意）"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": "20"}),
    )

    clean_bank_code = FurikomiForm.clean_bank_code
    clean_branch_code = FurikomiForm.clean_branch_code
    clean_account_number = FurikomiForm.clean_account_number
    clean_name_kana = FurikomiForm.clean_name_kana

    def clean_nickname(self) -> str:
        value: str = self.cleaned_data.get("nickname", "")
        if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in value):
            raise ValidationError(gettext("登録名に使用できない文字が含まれています。"))
        return value.strip()


class LimitForm(forms.Form):
    """振込限度額の変更（入力）."""

    new_limit = _amount_field(_("新しい振込限度額（円）"))

    def clean_new_limit(self) -> int:
        raw = _raw(self, "new_limit")
        value = normalize_digits(raw).removesuffix("円").replace(",", "")
        if value in {"0", "00"} or (value and set(value) == {"0"}):
            return 0
        return parse_yen(raw, gettext("振込限度額"))


class ConfirmForm(forms.Form):
    """確認: the 確認用パスワード (software keyboard) and, when needed, the 取引認証番号."""

    # Checked against the session's draft by the view (a mismatch gets a message there).
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)
    transaction_password = _RawField(
        label=_("確認用パスワード"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "maxlength": str(PASSWORD_MAX)}),
    )
    signing_code = _RawField(
        label=_("取引認証番号"),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "16", "size": "10"}
        ),
    )

    # The passkey's assertion (PublicKeyCredential as JSON), filled in by passkey_confirm.js.
    passkey_response = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=PASSKEY_RESPONSE_MAX
    )

    def __init__(self, *args: Any, signing: bool, passkey: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signing = signing and not passkey
        self.passkey = passkey
        if not self.signing:
            del self.fields["signing_code"]
        if not passkey:
            del self.fields["passkey_response"]

    def clean_passkey_response(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("passkey_response") or ""
        if not raw:
            return None  # the service answers that the passkey is needed
        try:
            return parse_json_object(raw.encode("utf-8"))
        except (JsonApiError, UnicodeEncodeError):
            raise ValidationError(
                gettext("パスキーの応答を読み取れませんでした。もう一度お試しください。")
            ) from None

    def clean_transaction_password(self) -> str:
        return validate_password_input(
            _raw(self, "transaction_password"), gettext("確認用パスワード")
        )

    def clean_signing_code(self) -> str:
        return parse_fixed_digits(_raw(self, "signing_code"), 8, gettext("取引認証番号"))


# The period a statement may ask for. Dates far outside it are no customer's question and
# would overflow the day bounds (9999-12-31 has no next day; 0001-01-01 none before it in UTC).
STATEMENT_EARLIEST = date(2000, 1, 1)
STATEMENT_LATEST = date(2099, 12, 31)


class StatementFilterForm(forms.Form):
    """入出金明細: the period (both ends inclusive, dates in Japan)."""

    date_from = forms.DateField(
        label=_("開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None:
            # Full-width digits and separators (「２０２６／１１／２７」) are accepted.
            data = data.copy()
            for name in ("date_from", "date_to"):
                value = data.get(name)
                if isinstance(value, str):
                    data[name] = normalize_digits(value)
        super().__init__(data, *args, **kwargs)
        for name in ("date_from", "date_to"):
            self.fields[name].input_formats = ["%Y-%m-%d", "%Y/%m/%d"]  # type: ignore[attr-defined]
            self.fields[name].error_messages["invalid"] = _(
                "日付は 2026-11-27 または 2026/11/27 の形で入力してください。"
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("date_from", "date_to"):
            day = cleaned.get(name)
            if day is not None and not STATEMENT_EARLIEST <= day <= STATEMENT_LATEST:
                self.add_error(
                    name,
                    gettext("日付は%(first)sから%(last)sまでの範囲で入力してください。")
                    % {
                        "first": STATEMENT_EARLIEST.strftime("%Y/%m/%d"),
                        "last": STATEMENT_LATEST.strftime("%Y/%m/%d"),
                    },
                )
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext("終了日は開始日以降の日付を指定してください。"))
        return cleaned
