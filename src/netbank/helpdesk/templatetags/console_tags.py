from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.contrib.auth.models import User

from netbank.audit.labels import OPERATOR_KEYS, DataItem, data_codes, data_items, event_label
from netbank.audit.models import AuditRecord

register = template.Library()


@register.filter
def get_item(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """``{{ labels|get_item:code }}``: a label by its code, or "" if there is none."""
    if not isinstance(mapping, Mapping):
        return ""
    return mapping.get(key, "")


@register.filter
def labels_of(codes: Any, labels: Mapping[str, Any]) -> str:
    """Codes stored in a list (an identity check's items) as their labels, joined."""
    if not isinstance(codes, list | tuple):
        return ""
    return "、".join(str(labels.get(c, c)) for c in codes)


@dataclass(frozen=True)
class AuditRow:
    """An audit record as the console shows it: words first, the codes for support."""

    occurred_at: datetime
    event: str
    label: str
    operator: str
    ip: str
    items: list[DataItem]
    codes: str


def _names(records: list[AuditRecord]) -> dict[int, str]:
    ids: set[int] = set()
    for r in records:
        if r.operator_id is not None:
            ids.add(r.operator_id)
        data = r.data if isinstance(r.data, Mapping) else {}
        ids.update(v for k, v in data.items() if k in OPERATOR_KEYS and isinstance(v, int))
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))


@register.simple_tag
def audit_rows(records: Iterable[AuditRecord]) -> list[AuditRow]:
    """The rows of an audit table, with operators named as the identity checks name them
    (their user name; an operator removed since shows as a number)."""
    rows = list(records)
    names = _names(rows)

    def name_of(pk: int) -> str:
        return names.get(pk, f"#{pk}")

    return [
        AuditRow(
            occurred_at=r.occurred_at,
            event=r.event,
            label=event_label(r.event),
            operator=name_of(r.operator_id) if r.operator_id is not None else "",
            ip=r.ip or "",
            items=data_items(r.data, name_of),
            codes=data_codes(r.data),
        )
        for r in rows
    ]
