from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    login_id = forms.CharField(label=_("ログインID"), max_length=12)
    password = forms.CharField(
        label=_("ログインパスワード"), max_length=64, widget=forms.PasswordInput
    )
