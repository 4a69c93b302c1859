"""Forms of the passkey screens: the shape of the input, with a message next to the
field; the checks (OTP, 確認用パスワード, the assertion) live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _lazy

from netbank.customers.forms import AccessibleForm, CheckedCharField, TransactionPasswordField
from netbank.customers.validators import validate_half_width_digits
from netbank.passkeys.models import NAME_MAX
from netbank.passkeys.services import PasskeyError, validate_name


def _check_name(raw: str | None) -> str:
    try:
        return validate_name(raw)
    except PasskeyError as exc:
        raise forms.ValidationError(exc.message, code=exc.code) from None


def _name_field() -> CheckedCharField:
    return CheckedCharField(
        label=_lazy("パスキーの名前"),
        check=_check_name,
        html_maxlength=NAME_MAX,
        help_text=_lazy("例：私のiPhone、自宅のパソコン（30文字以内）"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class OtpField(CheckedCharField):
    """The current one-time password, as the app shows it."""

    def __init__(self, *, digits: int = 6, **kwargs: Any) -> None:
        label = _lazy("ワンタイムパスワード")

        def check(raw: str | None) -> str:
            return validate_half_width_digits(raw, digits, digits, str(label))

        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        )
        super().__init__(label=label, check=check, html_maxlength=digits, **kwargs)


class RegisterForm(AccessibleForm):
    """パスキーの登録: its name, the current OTP and the 確認用パスワード on one screen."""

    name = _name_field()
    code = OtpField()
    transaction_password = TransactionPasswordField()

    def __init__(self, *args: Any, digits: int = 6, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"] = OtpField(digits=digits)


class RenameForm(AccessibleForm):
    name = _name_field()


class RemoveForm(AccessibleForm):
    """Removing the last passkey asks for the current OTP; any other, nothing more."""

    code = OtpField()

    def __init__(self, *args: Any, needs_otp: bool, digits: int = 6, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if needs_otp:
            self.fields["code"] = OtpField(digits=digits)
        else:
            del self.fields["code"]
