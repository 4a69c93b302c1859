"""Template filters for money and account numbers."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def yen(value: object) -> str:
    """12345 → 「12,345円」."""
    try:
        amount = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
    return _("%(amount)s円") % {"amount": f"{amount:,}"}


@register.filter
def digits(value: object) -> str:
    """12345 → 「12,345」 (amounts in tables whose header says 円)."""
    try:
        return f"{int(value):,}"  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""


@register.filter
def negate(value: int) -> int:
    return -int(value)
