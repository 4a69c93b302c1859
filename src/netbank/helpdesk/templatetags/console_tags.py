from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """``{{ labels|get_item:code }}``: a label by its code, or "" if there is none."""
    if not isinstance(mapping, Mapping):
        return ""
    return mapping.get(key, "")
