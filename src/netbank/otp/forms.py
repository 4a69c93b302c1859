from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OtpCodeForm(forms.Form):
    """A one-time password as the app shows it: half-width digits only."""

    code = forms.CharField(
        label=_("ワンタイムパスワード"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "8"}
        ),
    )

    def __init__(self, *args: object, digits: int = 6, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.digits = digits

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        if not code.isascii() or not code.isdigit():
            raise forms.ValidationError(_("ワンタイムパスワードは半角数字で入力してください。"))
        if len(code) != self.digits:
            raise forms.ValidationError(
                _("ワンタイムパスワードは%(digits)s桁の数字で入力してください。"),
                params={"digits": self.digits},
            )
        return code
