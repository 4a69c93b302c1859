"""The token app's install configuration as the bank publishes it.

The app learns the bank's URL and signing key from here (the download page over
HTTPS, or a file shipped with the app), never from the token mail. The format is
the one netbank.token_app.install_config reads (docs/protocols.md); the server
builds it without importing the app, which never depends on the server either.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings

from netbank.otp.signing_key import signing_public_key_text

FORMAT = "netbank-install/1"


def install_config_document(*, public_key: str | None = None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "bank_name": str(settings.NETBANK_BANK_NAME),
        "bank_url": str(settings.NETBANK_PUBLIC_URL),
        "bank_public_keys": [public_key or signing_public_key_text()],
        "service_id": str(settings.NETBANK_OTP["service_id"]),
    }


def install_config_json(*, public_key: str | None = None) -> str:
    return (
        json.dumps(install_config_document(public_key=public_key), ensure_ascii=False, indent=2)
        + "\n"
    )


def public_key_fingerprint(public_key: str) -> str:
    """A short fingerprint customers can compare with the one the app shows."""
    digest = hashlib.sha256(public_key.encode("ascii")).hexdigest()[:20].upper()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))
