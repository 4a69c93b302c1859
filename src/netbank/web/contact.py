"""The bank's name and helpdesk contact in the language of the page being shown.

Settings hold both: ``NETBANK_BANK_NAME`` / ``NETBANK_BANK_NAME_EN`` and, in
``NETBANK_HELPDESK``, the hours and closed days with their ``*_en`` twins. Mails to
customers are written in Japanese (rendered under ``translation.override("ja")``), so
they get the Japanese values from here as well.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation

# Helpdesk values written in words; the phone number and menu options are the same in both.
_WORDED_KEYS = ("weekday_hours", "holiday_hours", "closed_days")


def _english() -> bool:
    return (translation.get_language() or "").split("-")[0] == "en"


def bank_name() -> str:
    return str(settings.NETBANK_BANK_NAME_EN if _english() else settings.NETBANK_BANK_NAME)


def helpdesk_contact() -> dict[str, Any]:
    """NETBANK_HELPDESK with the hours and closed days in the active language."""
    helpdesk: dict[str, Any] = dict(settings.NETBANK_HELPDESK)
    if _english():
        for key in _WORDED_KEYS:
            helpdesk[key] = helpdesk.get(f"{key}_en") or helpdesk[key]
    return helpdesk
