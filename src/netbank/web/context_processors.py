from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def bank(request: HttpRequest) -> dict[str, Any]:
    """The bank's name and helpdesk contact, shown in every page footer."""
    return {
        "bank_name": settings.NETBANK_BANK_NAME,
        "bank_name_en": settings.NETBANK_BANK_NAME_EN,
        "helpdesk": settings.NETBANK_HELPDESK,
        "session_idle_seconds": settings.NETBANK_SESSION_IDLE_SECONDS,
        "session_warning_seconds": settings.NETBANK_SESSION_WARNING_SECONDS,
        "customer": getattr(request, "customer", None),
    }
