"""``{{ until|end_time }}``: an end time as netbank.web.moments writes it everywhere."""

from __future__ import annotations

from datetime import datetime

from django import template

from netbank.web.moments import end_time_text

register = template.Library()


@register.filter
def end_time(moment: object) -> str:
    # A missing value (None, or "" for an unknown name) renders as nothing, never an error.
    return end_time_text(moment) if isinstance(moment, datetime) else ""
