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


@register.filter
def data_pairs(data: Any) -> list[tuple[str, Any]]:
    """An audit record's data as (key, value) pairs. Not ``data.items`` in the template:
    a record whose data has a key named "items" would shadow the method."""
    if not isinstance(data, Mapping):
        return []
    return [(str(k), v) for k, v in data.items()]
