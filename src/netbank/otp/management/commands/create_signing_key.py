"""``netbank create-signing-key``: the bank's Ed25519 key for signing activation answers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.oath.activation import ed25519_public_text
from netbank.otp.activation.install import install_config_json
from netbank.otp.activation.signing_key import SigningKeyError, signing_key_path, signing_key_write


class Command(BaseCommand):
    help = (
        "Write a new Ed25519 signing key (PEM, mode 0600) to NETBANK_SIGNING_KEY_FILE or "
        "--output and print its public key for the token app's install configuration."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, help="key file (default: NETBANK_SIGNING_KEY_FILE)"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace an existing key (every installed app must get the new public key)",
        )
        parser.add_argument(
            "--install-config",
            type=Path,
            help="also write the token app's install configuration (JSON) to this file",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["output"] or signing_key_path()
        try:
            key = signing_key_write(path, overwrite=bool(options["force"]))
        except SigningKeyError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
        public = ed25519_public_text(key.public_key())
        self.stdout.write(f"Wrote the bank signing key to {path} (mode 0600).")
        self.stdout.write(f"Public key (base64url, Ed25519): {public}")
        config_path: Path | None = options["install_config"]
        if config_path is not None:
            try:
                config_path.parent.mkdir(parents=True, exist_ok=True)
                tmp = config_path.with_name(f".{config_path.name}.{os.getpid()}.tmp")
                tmp.write_text(install_config_json(public_key=public, key_file=path), "utf-8")
                os.replace(tmp, config_path)
            except OSError as exc:
                raise CommandError(f"cannot write {config_path}: {exc.strerror}") from exc
            self.stdout.write(f"Wrote the token app's install configuration to {config_path}.")
