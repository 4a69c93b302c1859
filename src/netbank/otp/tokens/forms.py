"""Forms of the OTP screens. They check the input's shape and say clearly what is wrong,
next to the field; the rules behind it (checks, lockouts, issue) live in otp.tokens.services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from netbank.customers.validators import (
    PASSWORD_MAX,
    validate_email_address,
    validate_half_width_digits,
    validate_password_input,
    validate_secret_answer,
)
from netbank.digits import is_ascii_digits

ACTIVATION_PASSWORD_MIN = 4
ACTIVATION_PASSWORD_MAX = 8
# The inputs' maxlength: well above the 8 digits allowed, so the browser never cuts a
# 9th digit off (which would apply with a password the customer did not type); the
# server sees everything and refuses a wrong length with the field's message.
ACTIVATION_PASSWORD_INPUT_MAXLENGTH = 32


class OtpCodeForm(forms.Form):
    """A one-time password as the app shows it: half-width digits only."""

    code = forms.CharField(
        label=_("ワンタイムパスワード"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "8"}
        ),
    )

    def __init__(self, *args: Any, digits: int = 6, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digits = digits

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        if not is_ascii_digits(code):
            raise forms.ValidationError(_("ワンタイムパスワードは半角数字で入力してください。"))
        if len(code) != self.digits:
            raise forms.ValidationError(
                _("ワンタイムパスワードは%(digits)s桁の数字で入力してください。"),
                params={"digits": self.digits},
            )
        return code


def _raw(form: forms.Form, name: str) -> str:
    """The submitted string as typed (no stripping: passwords keep every character)."""
    value = form.data.get(form.add_prefix(name), "")
    return value if isinstance(value, str) else ""


class _RawField(forms.CharField):
    """A CharField whose own checks are off; the form's ``clean_<name>`` runs the
    shared validator on the raw string, so every message comes from one place."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)


class IssueInputForm(forms.Form):
    """トークン発行（入力）: 送付先メールアドレス and the 利用開始パスワード, twice."""

    email = _RawField(
        label=_("携帯電話メールアドレス"),
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "inputmode": "email", "maxlength": "254"}
        ),
    )
    activation_password = _RawField(
        label=_("利用開始パスワード"),
        widget=forms.PasswordInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "new-password",
                "maxlength": str(ACTIVATION_PASSWORD_INPUT_MAXLENGTH),
            }
        ),
    )
    activation_password_confirm = _RawField(
        label=_("利用開始パスワード（確認用）"),
        widget=forms.PasswordInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "new-password",
                "maxlength": str(ACTIVATION_PASSWORD_INPUT_MAXLENGTH),
            }
        ),
    )

    def clean_email(self) -> str:
        return validate_email_address(_raw(self, "email"), gettext("携帯電話メールアドレス"))

    def clean_activation_password(self) -> str:
        return validate_half_width_digits(
            _raw(self, "activation_password"),
            ACTIVATION_PASSWORD_MIN,
            ACTIVATION_PASSWORD_MAX,
            gettext("利用開始パスワード"),
        )

    def clean_activation_password_confirm(self) -> str:
        value = _raw(self, "activation_password_confirm")
        if value == "":
            raise ValidationError(
                gettext("確認のため、利用開始パスワードを再度入力してください。"),
                code="required",
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first = cleaned.get("activation_password")
        second = cleaned.get("activation_password_confirm")
        if first and second and first != second:
            self.add_error(
                "activation_password_confirm",
                gettext("利用開始パスワードと利用開始パスワード（確認用）が一致しません。"),
            )
        return cleaned


def _transaction_password_field() -> forms.CharField:
    return _RawField(
        label=_("確認用パスワード"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "maxlength": str(PASSWORD_MAX)}),
    )


def _clean_transaction_password(form: forms.Form) -> str:
    return validate_password_input(_raw(form, "transaction_password"), gettext("確認用パスワード"))


class TransactionPasswordForm(forms.Form):
    """利用解除: the 確認用パスワード alone."""

    transaction_password = _transaction_password_field()

    def clean_transaction_password(self) -> str:
        return _clean_transaction_password(self)


class IssueConfirmForm(TransactionPasswordForm):
    """トークン発行（確認）: 確認用パスワード and the 追加認証 answer."""

    answer = _RawField(
        label=_("回答"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_answer(self) -> str:
        return validate_secret_answer(_raw(self, "answer"), gettext("回答"))
