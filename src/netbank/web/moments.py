"""End times as customers read them: one way on every screen and in every mail.

A refusal that names when it ends ("… 以降にご利用いただけます") must hold at that
minute: the end is rounded UP to the minute, so the named minute is never still refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import dateformat, timezone
from django.utils.translation import gettext


def minute_ceil(moment: datetime) -> datetime:
    """``moment`` rounded up to the next whole minute (unchanged if it is one)."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def end_time_text(moment: datetime) -> str:
    """「2026年12月7日 15:05」 in Japan time (the active language's form), rounded up."""
    return dateformat.format(timezone.localtime(minute_ceil(moment)), gettext("Y年n月j日 H:i"))
