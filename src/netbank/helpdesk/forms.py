"""Console forms: parse and bound the input; the rules are in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _lazy

from netbank.helpdesk.models import IdentityCheck, LiftRequest
from netbank.helpdesk.services import (
    IDENTITY_ITEMS,
    REASON_MAX,
    REASON_MIN,
    IdentityCheckInput,
)

_REQUIRED = {"required": _lazy("入力してください。")}


class OperatorLoginForm(forms.Form):
    username = forms.CharField(
        label=_lazy("ユーザー名"),
        max_length=150,
        error_messages=_REQUIRED,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_lazy("パスワード"),
        max_length=128,
        strip=False,
        error_messages=_REQUIRED,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.RegexField(
        label=_lazy("ワンタイムパスワード"),
        regex=r"^[0-9]{6,8}$",
        error_messages={**_REQUIRED, "invalid": _lazy("6～8桁の数字で入力してください。")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "8"}
        ),
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_lazy("ログインID・氏名・カナ・メールアドレス・口座番号"),
        max_length=100,
        error_messages={
            **_REQUIRED,
            "max_length": _lazy("100文字以内で入力してください。"),
        },
    )


def _reason_field(label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _lazy("理由"),
        min_length=REASON_MIN,
        max_length=REASON_MAX,
        error_messages={
            **_REQUIRED,
            "min_length": _lazy("4文字以上で入力してください。"),
            "max_length": _lazy("500文字以内で入力してください。"),
        },
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(forms.Form):
    reason = _reason_field()


class SuspendForm(forms.Form):
    reason = _reason_field(_lazy("停止の理由（お客さまからの申告内容など）"))
    confirm = forms.BooleanField(
        label=_lazy("このお客さまのお取引をただちに停止します"),
        error_messages={"required": _lazy("確認のチェックを入れてください。")},
    )


class DecisionForm(forms.Form):
    note = _reason_field(_lazy("判断の理由"))


class IdentityCheckForm(forms.Form):
    """The identity check every action except the suspension records (docs/helpdesk.md)."""

    method = forms.ChoiceField(
        label=_lazy("本人確認の方法"),
        choices=IdentityCheck.Method.choices,
        widget=forms.RadioSelect,
        error_messages={**_REQUIRED, "invalid_choice": _lazy("一覧から選択してください。")},
    )
    items = forms.MultipleChoiceField(
        label=_lazy("お客さまが正しく答えた項目"),
        choices=list(IDENTITY_ITEMS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": _lazy("一覧から選択してください。")},
    )
    question_id = forms.IntegerField(
        required=False,
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"invalid": _lazy("追加認証の質問をもう一度表示してください。")},
    )
    secret_answer = forms.CharField(
        label=_lazy("追加認証の回答（お客さまが答えた内容。保存されません）"),
        required=False,
        max_length=32,
        strip=False,
        error_messages={"max_length": _lazy("32文字以内で入力してください。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    result = forms.ChoiceField(
        label=_lazy("本人確認の結果"),
        choices=IdentityCheck.Result.choices,
        widget=forms.RadioSelect,
        error_messages={**_REQUIRED, "invalid_choice": _lazy("一覧から選択してください。")},
    )
    note = forms.CharField(
        label=_lazy("本人確認の記録（確認した内容。回答そのものやパスワードは書かないでください）"),
        max_length=REASON_MAX,
        error_messages={**_REQUIRED, "max_length": _lazy("500文字以内で入力してください。")},
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = _reason_field()

    def identity_check(self) -> IdentityCheckInput:
        data = self.cleaned_data
        return IdentityCheckInput(
            method=data["method"],
            items=list(data.get("items") or []),
            result=data["result"],
            note=data["note"],
            secret_question_id=data.get("question_id"),
            secret_answer=data.get("secret_answer") or None,
        )


class LiftRequestForm(IdentityCheckForm):
    token_action = forms.ChoiceField(
        label=_lazy("再開後のワンタイムパスワード（トークン）"),
        choices=LiftRequest.TokenAction.choices,
        widget=forms.RadioSelect,
        error_messages={**_REQUIRED, "invalid_choice": _lazy("一覧から選択してください。")},
    )
