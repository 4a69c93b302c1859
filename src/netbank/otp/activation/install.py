"""The token app's install configuration as the bank publishes it.

The app learns the bank's URL and signing keys from here (the configuration shipped
inside the bank's own build of the app, or the download page over HTTPS), never from
the token mail. The format is the one netbank.token_app.install_config reads
(docs/protocols.md 1.10); the server builds it without importing the app, which never
depends on the server either. Both use netbank.oath.bankkeys for the key entries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings

from netbank.oath.bankkeys import BankKey, check_key_pair, key_id_for, not_after_parse
from netbank.otp.activation.signing_key import signing_key_path, signing_public_key_text

FORMAT = "netbank-install/2"
# A key without a configured not-after time is trusted for two years from its file's
# creation: a retired key must not be trusted forever (set NETBANK_SIGNING_KEY_NOT_AFTER).
DEFAULT_KEY_LIFETIME_SECONDS = 730 * 86400


def _info() -> dict[str, str]:
    return {k: str(v or "") for k, v in settings.NETBANK_SIGNING_KEY_INFO.items()}


def current_bank_key(*, public_key: str | None = None, key_file: Path | None = None) -> BankKey:
    """The key the bank signs activation answers with, as the app is told to trust it."""
    info = _info()
    public = public_key or signing_public_key_text()
    if info["not_after"]:
        not_after = not_after_parse(info["not_after"])
    else:
        written = (key_file or signing_key_path()).stat().st_mtime
        not_after = int(written) + DEFAULT_KEY_LIFETIME_SECONDS
    return BankKey(
        key_id=info["key_id"] or key_id_for(public), public_key=public, not_after=not_after
    )


def next_bank_key() -> BankKey | None:
    """The key the bank will sign with next (announced while it rolls its key over)."""
    info = _info()
    if not info["next_public_key"]:
        return None
    return BankKey(
        key_id=info["next_key_id"] or key_id_for(info["next_public_key"]),
        public_key=info["next_public_key"],
        not_after=not_after_parse(info["next_not_after"]),
    )


def install_config_document(
    *, public_key: str | None = None, key_file: Path | None = None
) -> dict[str, Any]:
    current = current_bank_key(public_key=public_key, key_file=key_file)
    following = next_bank_key()
    check_key_pair(current, following)
    document: dict[str, Any] = {
        "format": FORMAT,
        "bank_name": str(settings.NETBANK_BANK_NAME),
        "bank_url": str(settings.NETBANK_PUBLIC_URL),
        "service_id": str(settings.NETBANK_OTP["service_id"]),
        "bank_key": current.to_json(),
    }
    if following is not None:
        document["next_bank_key"] = following.to_json()
    return document


def install_config_json(*, public_key: str | None = None, key_file: Path | None = None) -> str:
    document = install_config_document(public_key=public_key, key_file=key_file)
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
