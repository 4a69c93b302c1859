"""The token app's install configuration: which bank it talks to and which key it trusts.

It comes with the app (a file shipped with it, or the bank's download page over HTTPS),
never from the token mail, so a phishing mail cannot point the app at another server
or another key. ``netbank create-signing-key --install-config FILE`` writes one.

Format (JSON, UTF-8)::

    {
      "format": "netbank-install/1",
      "bank_name": "ネットバンク",
      "bank_url": "https://bank.example.jp",
      "bank_public_keys": ["<base64url of the 32-byte Ed25519 public key>"],
      "service_id": "100001"
    }

``bank_public_keys`` lists more than one key only while the bank rolls its key over.
``service_id`` is optional: the customer types the one from the mail.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netbank.oath import activation as proto

FORMAT = "netbank-install/1"
MAX_FILE_BYTES = 64 * 1024


class InstallConfigError(ValueError):
    """The install configuration is missing, malformed or names no usable key."""


@dataclass(frozen=True)
class InstallConfig:
    bank_url: str
    bank_public_keys: tuple[str, ...]
    bank_name: str = ""
    service_id: str = ""

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.bank_url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise InstallConfigError("bank_url must be an https:// URL")
        if not self.bank_public_keys:
            raise InstallConfigError("bank_public_keys must name at least one key")
        for key in self.bank_public_keys:
            try:
                proto.ed25519_public_key(key)
            except proto.ActivationError as exc:
                raise InstallConfigError(f"bank public key {key!r} is not usable: {exc}") from None
        if self.service_id:
            try:
                proto.check_service_id(self.service_id)
            except proto.ActivationError as exc:
                raise InstallConfigError(str(exc)) from None

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "format": FORMAT,
            "bank_name": self.bank_name,
            "bank_url": self.bank_url,
            "bank_public_keys": list(self.bank_public_keys),
        }
        if self.service_id:
            data["service_id"] = self.service_id
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _text_list(value: object) -> Sequence[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InstallConfigError("bank_public_keys must be a list of strings")
    return value


def install_config_parse(text: str | bytes) -> InstallConfig:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InstallConfigError("the install configuration is not JSON") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InstallConfigError(f"the install configuration is not {FORMAT}")
    for name in ("bank_url", "bank_name", "service_id"):
        if not isinstance(data.get(name, ""), str):
            raise InstallConfigError(f"{name} must be a string")
    return InstallConfig(
        bank_url=str(data.get("bank_url", "")),
        bank_public_keys=tuple(_text_list(data.get("bank_public_keys"))),
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
