"""``netbank token-install-config``: the install configuration the bank's own build of the
token app ships (package data), written from the bank's signing key and settings."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.oath.bankkeys import BankKeyError, not_after_text
from netbank.otp.activation.install import current_bank_key, install_config_json, next_bank_key
from netbank.otp.activation.signing_key import SigningKeyError


def shipped_config_path() -> Path:
    """install.json next to the token app's modules: the wheel then carries it (package
    data), and the app uses it before anything else (netbank.token_app.install_source)."""
    spec = importlib.util.find_spec("netbank.token_app")
    if spec is None or spec.origin is None:
        raise CommandError("the token app package is not installed")
    return Path(spec.origin).with_name("install.json")


class Command(BaseCommand):
    help = (
        "Write the token app's install configuration (bank URL, signing key with key id and "
        "not-after time, the next key) into the token app package, so the bank's wheel "
        "ships it; or to --output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="file (default: the token app package)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["output"] or shipped_config_path()
        try:
            text = install_config_json()
            current, following = current_bank_key(), next_bank_key()
        except (SigningKeyError, BankKeyError) as exc:
            raise CommandError(str(exc)) from exc
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(text, "utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
        self.stdout.write(f"Wrote the token app's install configuration to {path}.")
        for label, key in (("Signing key", current), ("Next key", following)):
            if key is not None:
                self.stdout.write(
                    f"{label} {key.key_id}: fingerprint {key.fingerprint}, "
                    f"not after {not_after_text(key.not_after)}"
                )
