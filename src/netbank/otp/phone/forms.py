"""The form of SLI012 (ワンタイムパスワード利用申請, smartphone).

The leaflet's fields: メールアドレス and メールアドレス（確認用）《半角英数字記号》,
利用開始パスワード and 利用開始パスワード（確認用） (4–8 digits), and the 追加認証 回答
《全角16文字以内》. The address and 利用開始パスワード rules are the PC form's
(``IssueInputForm``); only the labels and the second address field are the phone's.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from netbank.customers.validators import validate_email_address, validate_secret_answer

# The PC form's raw-string field, so both forms check their input the same way.
from netbank.otp.tokens.forms import IssueInputForm, _RawField


def _raw(form: forms.Form, name: str) -> str:
    value = form.data.get(form.add_prefix(name), "")
    return value if isinstance(value, str) else ""


_EMAIL_ATTRS = {"autocomplete": "email", "inputmode": "email", "maxlength": "254"}


class PhoneApplyForm(IssueInputForm):
    email = _RawField(label=_("メールアドレス"), widget=forms.EmailInput(attrs=_EMAIL_ATTRS))
    email_confirm = _RawField(
        label=_("メールアドレス（確認用）"),
        widget=forms.EmailInput(attrs={**_EMAIL_ATTRS, "autocomplete": "off"}),
    )
    answer = _RawField(label=_("回答"), widget=forms.TextInput(attrs={"autocomplete": "off"}))

    field_order = [
        "email",
        "email_confirm",
        "activation_password",
        "activation_password_confirm",
        "answer",
    ]

    def __init__(self, *args: Any, ask_answer: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not ask_answer:
            # No 追加認証 question is registered: the screen says so instead.
            del self.fields["answer"]

    def clean_email(self) -> str:
        return validate_email_address(_raw(self, "email"), gettext("メールアドレス"))

    def clean_email_confirm(self) -> str:
        value = _raw(self, "email_confirm")
        if value == "":
            raise ValidationError(
                gettext("確認のため、メールアドレスを再度入力してください。"), code="required"
            )
        return value

    def clean_answer(self) -> str:
        return validate_secret_answer(_raw(self, "answer"), gettext("回答"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first = cleaned.get("email")
        second = cleaned.get("email_confirm")
        if first and second and first != second:
            self.add_error(
                "email_confirm",
                gettext("メールアドレスとメールアドレス（確認用）が一致しません。"),
            )
        return cleaned
