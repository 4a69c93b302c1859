from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from netbank.web.contact import bank_name, helpdesk_contact


def bank(request: HttpRequest) -> dict[str, Any]:
    """The bank's name and helpdesk contact (in the page's language), shown in every footer."""
    return {
        "bank_name": bank_name(),
        "bank_name_en": settings.NETBANK_BANK_NAME_EN,
        "helpdesk": helpdesk_contact(),
        "session_idle_seconds": settings.NETBANK_SESSION_IDLE_SECONDS,
        "session_warning_seconds": settings.NETBANK_SESSION_WARNING_SECONDS,
        "customer": getattr(request, "customer", None),
    }
