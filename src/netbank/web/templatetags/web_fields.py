"""The widget of one form field, tied to every text that describes it.

Django 5.2 marks an invalid input (``aria-invalid="true"``) and points its
``aria-describedby`` at ``<id>_error`` and ``<id>_helptext``. ``web/_field.html`` renders
elements with exactly those ids, and the hints a template adds (format, hint, note) get ids
of the same form, so a screen reader reads the hint and the error with the input.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

register = template.Library()


def described_by(field: Any, *, format: Any = "", hint: Any = "", note: Any = "") -> str:
    """The ids ``web/_field.html`` renders for this field, in reading order."""
    auto_id = field.auto_id
    if not auto_id:
        return ""
    ids = []
    if field.help_text:
        ids.append(f"{auto_id}_helptext")
    if format:
        ids.append(f"{auto_id}_format")
    if hint:
        ids.append(f"{auto_id}_hint")
    if note:
        ids.append(f"{auto_id}_note")
    if field.errors:
        ids.append(f"{auto_id}_error")
    return " ".join(ids)


@register.simple_tag
def field_widget(field: Any, format: Any = "", hint: Any = "", note: Any = "") -> SafeString:
    """``{% field_widget field hint=hint %}``: the input with its aria-describedby."""
    ids = described_by(field, format=format, hint=hint, note=note)
    widget: SafeString = field.as_widget(attrs={"aria-describedby": ids} if ids else None)
    return widget


@register.simple_tag
def field_described_by(field: Any) -> str:
    """The error (and help text) ids of a group of choices, for its ``<fieldset>``."""
    return described_by(field)
