"""``{{ until|end_time }}``: an end time as netbank.web.moments writes it everywhere."""

from __future__ import annotations

from datetime import datetime

from django import template

from netbank.web.moments import end_time_text

register = template.Library()


@register.filter
def end_time(moment: datetime | None) -> str:
    return end_time_text(moment) if moment is not None else ""
