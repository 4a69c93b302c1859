"""The token app's install configuration: which bank it talks to and which key it trusts.

It comes with the app (the configuration shipped inside the bank's own build of the
app is the production default), or from the bank's download page over HTTPS; never
from the token mail, so a phishing mail cannot point the app at another server or
another key. ``netbank token-install-config`` writes one from the bank's key.

Format (JSON, UTF-8)::

    {
      "format": "netbank-install/2",
      "bank_name": "ネットバンク",
      "bank_url": "https://bank.example.jp",
      "service_id": "100001",
      "bank_key": {"key_id": "k-…", "public_key": "<base64url, 32 bytes>",
                   "not_after": "2028-12-31T23:59:59Z"},
      "next_bank_key": {"key_id": "…", "public_key": "…", "not_after": "…"}
    }

The app trusts ``bank_key`` until its ``not_after`` and ``next_bank_key`` (optional,
present while the bank rolls its key over) until its own; once both ran out it refuses
to activate until it is given a new configuration. ``service_id`` is optional: the
customer types the one from the mail. The old format ``netbank-install/1`` (keys
without an end) is refused: it would trust a retired key forever.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netbank.oath import activation as proto
from netbank.oath.bankkeys import BankKey, BankKeyError, check_key_pair, trusted_keys

FORMAT = "netbank-install/2"
OLD_FORMATS = ("netbank-install/1",)
MAX_FILE_BYTES = 64 * 1024


class InstallConfigError(ValueError):
    """The install configuration is missing, malformed or names no usable key."""


class BankKeyExpiredConfigError(InstallConfigError):
    """Every key of the install configuration is past its not-after time."""


@dataclass(frozen=True)
class InstallConfig:
    bank_url: str
    bank_key: BankKey
    next_bank_key: BankKey | None = None
    bank_name: str = ""
    service_id: str = ""

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.bank_url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise InstallConfigError("bank_url must be an https:// URL")
        try:
            check_key_pair(self.bank_key, self.next_bank_key)
        except BankKeyError as exc:
            raise InstallConfigError(str(exc)) from None
        if self.service_id:
            try:
                proto.check_service_id(self.service_id)
            except proto.ActivationError as exc:
                raise InstallConfigError(str(exc)) from None

    @property
    def bank_keys(self) -> tuple[BankKey, ...]:
        return (
            (self.bank_key,)
            if self.next_bank_key is None
            else (
                self.bank_key,
                self.next_bank_key,
            )
        )

    def keys_at(self, now: float) -> tuple[BankKey, ...]:
        """The keys trusted at ``now`` (the first is the one in use, whose fingerprint
        the app shows); ``BankKeyExpiredConfigError`` when every key has run out."""
        try:
            return trusted_keys(self.bank_keys, now)
        except BankKeyError as exc:
            raise BankKeyExpiredConfigError(str(exc)) from None

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "format": FORMAT,
            "bank_name": self.bank_name,
            "bank_url": self.bank_url,
        }
        if self.service_id:
            data["service_id"] = self.service_id
        data["bank_key"] = self.bank_key.to_json()
        if self.next_bank_key is not None:
            data["next_bank_key"] = self.next_bank_key.to_json()
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _bank_key(value: object, name: str) -> BankKey:
    try:
        return BankKey.from_json(value)
    except BankKeyError as exc:
        raise InstallConfigError(f"{name}: {exc}") from None


def install_config_parse(text: str | bytes) -> InstallConfig:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InstallConfigError("the install configuration is not JSON") from exc
    if isinstance(data, dict) and data.get("format") in OLD_FORMATS:
        raise InstallConfigError(
            f"the install configuration is the old format {data.get('format')} (keys without "
            "an end date); get the current one from the bank's download page"
        )
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InstallConfigError(f"the install configuration is not {FORMAT}")
    for name in ("bank_url", "bank_name", "service_id"):
        if not isinstance(data.get(name, ""), str):
            raise InstallConfigError(f"{name} must be a string")
    following = data.get("next_bank_key")
    return InstallConfig(
        bank_url=str(data.get("bank_url", "")),
        bank_key=_bank_key(data.get("bank_key"), "bank_key"),
        next_bank_key=None if following is None else _bank_key(following, "next_bank_key"),
        bank_name=str(data.get("bank_name", "")),
        service_id=str(data.get("service_id", "")),
    )


def install_config_load(path: Path) -> InstallConfig:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InstallConfigError(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise InstallConfigError(f"{path} is too large for an install configuration")
    return install_config_parse(raw)


def install_config_write(path: Path, config: InstallConfig) -> None:
    """Write atomically (a reader never sees half a file). The file holds no secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(config.to_json(), encoding="utf-8")
    os.replace(tmp, path)
