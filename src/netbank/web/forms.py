"""Form helpers shared by the customer screens."""

from __future__ import annotations

from typing import Any


def form_refuse(form: Any, message: str, *, disable: bool) -> None:
    """Show a refusal that is not about what was typed (a lock, a suspension).

    The templates show ``form.refusal`` alone, without 「入力内容をご確認ください。」 or
    the field errors. With ``disable`` every field is disabled (the templates disable
    the submit button too): while a credential is locked nothing typed can pass, so the
    screen does not invite typing; the server refuses such a request all the same.
    """
    form.refusal = message
    form.refusal_disables = disable
    if disable:
        for field in form.fields.values():
            field.disabled = True
