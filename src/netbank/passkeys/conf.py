"""The relying party as the browser sees it: its id and the origins it serves.

Read on every use, not at import: the demo sets ``NETBANK_PUBLIC_URL`` after start-up
(to the port it got), and the defaults follow it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def _public_url() -> str:
    return str(settings.NETBANK_PUBLIC_URL).rstrip("/")


def rp_id() -> str:
    """``NETBANK_WEBAUTHN_RP_ID``, else the host of ``NETBANK_PUBLIC_URL``."""
    configured = str(getattr(settings, "NETBANK_WEBAUTHN_RP_ID", "") or "")
    return configured or (urlsplit(_public_url()).hostname or "")


def origins() -> list[str]:
    """``NETBANK_WEBAUTHN_ORIGINS``, else the origin of ``NETBANK_PUBLIC_URL``: a
    clientDataJSON from any other origin (a phishing site's) is refused."""
    configured = [o for o in getattr(settings, "NETBANK_WEBAUTHN_ORIGINS", []) or [] if o]
    if configured:
        return [o.rstrip("/") for o in configured]
    parts = urlsplit(_public_url())
    return [f"{parts.scheme}://{parts.netloc}"]


def rp_name() -> str:
    return str(settings.NETBANK_BANK_NAME)


def passkey_required() -> bool:
    return bool(getattr(settings, "NETBANK_PASSKEY_REQUIRED", False))
