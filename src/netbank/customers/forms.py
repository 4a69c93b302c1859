"""Customer forms. Each field checks the raw input with one validator from validators.py,
so every rule (required, length on the raw input, width, control characters) gives the
customer one clear message, and the widget carries what assistive technology needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _lazy

from netbank.customers import validators
from netbank.customers.questions import MAX_QUESTIONS, SECRET_QUESTIONS
from netbank.customers.services import QuestionEntry


class CheckedCharField(forms.CharField):
    """A text field validated by one function on the raw value (no stripping first).

    Django's own required, max_length and null-character checks are replaced by the
    validator's, so there is exactly one message per problem and it is ours.
    """

    def __init__(
        self,
        *,
        check: Callable[[str | None], str],
        html_maxlength: int | None = None,
        optional: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs["required"] = False
        kwargs["strip"] = False
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        self.check = check
        self.optional = optional
        if not optional:
            self.widget.attrs["aria-required"] = "true"
        if html_maxlength is not None:
            self.widget.attrs["maxlength"] = str(html_maxlength)

    def clean(self, value: Any) -> Any:
        raw = value if isinstance(value, str) else ""
        if self.optional and raw == "":
            return None
        return self.check(raw)


class AccessibleForm(forms.Form):
    """A customer form. Django marks an invalid input (aria-invalid) and names its error's id
    in aria-describedby; ``web/_field.html`` renders the error under that id."""


class LoginForm(AccessibleForm):
    login_id = CheckedCharField(
        label=_lazy("ログインID"),
        check=validators.validate_login_id,
        html_maxlength=validators.LOGIN_ID_MAX,
        widget=forms.TextInput(
            # "webauthn": the browser may offer the bank's passkeys here (conditional UI).
            attrs={
                "autocomplete": "username webauthn",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )
    password = CheckedCharField(
        label=_lazy("ログインパスワード"),
        check=validators.validate_password_input,
        html_maxlength=validators.PASSWORD_MAX,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _check_transaction_password(raw: str | None) -> str:
    return validators.validate_password_input(raw, str(_lazy("確認用パスワード")))


class TransactionPasswordField(CheckedCharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _lazy("確認用パスワード"))
        kwargs.setdefault(
            "widget", forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "text"})
        )
        super().__init__(
            check=_check_transaction_password, html_maxlength=validators.PASSWORD_MAX, **kwargs
        )


def _question_choices() -> list[tuple[str, Any]]:
    return [("", _lazy("登録しない")), *[(q, _lazy(q)) for q in SECRET_QUESTIONS]]


class SecretQuestionsForm(AccessibleForm):
    """追加認証の質問の登録・変更: up to three questions, behind the 確認用パスワード.

    A slot whose question is unchanged and whose answer is left blank keeps its stored
    answer (answers are hashed and never shown). A newly chosen question needs an answer.
    """

    transaction_password = TransactionPasswordField()

    def __init__(self, *args: Any, current: dict[int, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current or {}
        for position in range(1, MAX_QUESTIONS + 1):
            initial = self.current.get(position, "")
            self.fields[f"question_{position}"] = forms.ChoiceField(
                label=_lazy("質問%(n)s") % {"n": position},
                choices=_question_choices(),
                required=False,
                initial=initial,
            )
            self.fields[f"question_{position}"].optional = True  # type: ignore[attr-defined]
            self.fields[f"answer_{position}"] = CheckedCharField(
                label=_lazy("回答%(n)s") % {"n": position},
                check=validators.validate_secret_answer,
                optional=True,
                html_maxlength=validators.SECRET_ANSWER_MAX,
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )
        # The password comes last on screen, as on the leaflet's confirm screens.
        self.order_fields([*[k for k in self.fields if k != "transaction_password"]])

    def slots(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        return [
            (p, self[f"question_{p}"], self[f"answer_{p}"]) for p in range(1, MAX_QUESTIONS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        entries: list[QuestionEntry] = []
        chosen: dict[str, int] = {}
        for position in range(1, MAX_QUESTIONS + 1):
            question = cleaned.get(f"question_{position}") or ""
            answer = cleaned.get(f"answer_{position}")
            if f"answer_{position}" in self.errors:
                continue
            if not question:
                if answer:
                    self.add_error(f"question_{position}", _lazy("質問を選択してください。"))
                continue
            if question in chosen:
                self.add_error(
                    f"question_{position}", _lazy("同じ質問を複数登録することはできません。")
                )
                continue
            chosen[question] = position
            if answer is None and self.current.get(position) != question:
                self.add_error(
                    f"answer_{position}", _lazy("新しく選択した質問には回答を入力してください。")
                )
                continue
            entries.append(QuestionEntry(position=position, question=question, answer=answer))
        if not chosen and not self.errors:
            raise forms.ValidationError(_lazy("追加認証の質問を1つ以上登録してください。"))
        cleaned["entries"] = entries
        return cleaned
