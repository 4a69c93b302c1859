"""The bank's Ed25519 signing key and ``netbank create-signing-key``."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from netbank.oath import activation as proto
from netbank.otp.activation import signing_key as sk
from netbank.token_app.install_config import install_config_load

REPO = Path(__file__).resolve().parents[2]


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("create_signing_key", *args, stdout=out)
    return out.getvalue()


def test_command_writes_an_owner_only_pem_and_prints_its_public_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "bank.pem"
    out = _command("--output", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    public = proto.ed25519_public_text(key.public_key())  # type: ignore[arg-type]
    assert f"Public key (base64url, Ed25519): {public}" in out
    assert not list(path.parent.glob(".*tmp"))  # no temporary file left behind


def test_command_refuses_to_replace_a_key_without_force(tmp_path: Path) -> None:
    path = tmp_path / "bank.pem"
    _command("--output", str(path))
    before = path.read_bytes()
    with pytest.raises(CommandError, match="already exists"):
        _command("--output", str(path))
    assert path.read_bytes() == before
    _command("--output", str(path), "--force")
    assert path.read_bytes() != before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_command_writes_an_install_configuration_the_app_reads(tmp_path: Path) -> None:
    key_path, config_path = tmp_path / "bank.pem", tmp_path / "install.json"
    with override_settings(NETBANK_PUBLIC_URL="https://bank.example.jp"):
        out = _command("--output", str(key_path), "--install-config", str(config_path))
    config = install_config_load(config_path)
    assert config.bank_url == "https://bank.example.jp"
    assert config.service_id == "100001"
    public = config.bank_key.public_key
    assert config.next_bank_key is None
    assert public in out
    assert "PRIVATE" not in config_path.read_text()


def test_netbank_cli_accepts_the_dashed_command_name(tmp_path: Path) -> None:
    path = tmp_path / "bank.pem"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "netbank.config.test_settings"}
    result = subprocess.run(
        [sys.executable, "-m", "netbank.cli", "create-signing-key", "--output", str(path)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Public key" in result.stdout
    assert path.exists()


def test_signing_key_is_read_from_the_configured_file(tmp_path: Path) -> None:
    path = tmp_path / "bank.pem"
    key = sk.signing_key_write(path)
    with override_settings(NETBANK_SIGNING_KEY_FILE=str(path)):
        assert sk.signing_public_key_text() == proto.ed25519_public_text(key.public_key())
        # A replaced file is picked up without a restart.
        path.unlink()
        replacement = sk.signing_key_write(path)
        os.utime(path, ns=(1, 1))
        assert sk.signing_public_key_text() == proto.ed25519_public_text(replacement.public_key())


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.pem"
    sk.signing_key_write(path)
    path.chmod(0o644)
    with (
        override_settings(NETBANK_SIGNING_KEY_FILE=str(path)),
        pytest.raises(sk.SigningKeyError, match="0600"),
    ):
        sk.signing_key()


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.pem"
    pem = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    with (
        override_settings(NETBANK_SIGNING_KEY_FILE=str(path)),
        pytest.raises(sk.SigningKeyError, match="not an Ed25519 key"),
    ):
        sk.signing_key()


def test_production_without_a_key_file_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETBANK_ENV", "production")
    path = tmp_path / "missing.pem"
    with (
        override_settings(NETBANK_SIGNING_KEY_FILE=str(path)),
        pytest.raises(sk.SigningKeyError, match="create-signing-key"),
    ):
        sk.signing_key()
    assert not path.exists()


def test_development_creates_a_key_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "dev" / "bank.pem"
    with override_settings(NETBANK_SIGNING_KEY_FILE=str(path)):
        public = sk.signing_public_key_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert proto.ed25519_public_key(public)


@pytest.mark.django_db
def test_api_answers_a_json_500_when_the_key_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "bank.pem"
    sk.signing_key_write(path)
    path.chmod(0o644)
    _, public = proto.x25519_generate()
    with override_settings(NETBANK_SIGNING_KEY_FILE=str(path)):
        response = Client().post(
            "/api/v1/activation/start",
            json.dumps(
                {
                    "service_id": "100001",
                    "user_id": "123456789012",
                    "app_public_key": proto.b64url_encode(public),
                }
            ),
            content_type="application/json",
        )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def test_token_install_config_writes_what_the_banks_wheel_ships(tmp_path: Path) -> None:
    from netbank.oath.bankkeys import key_fingerprint
    from netbank.otp.management.commands.token_install_config import shipped_config_path
    from netbank.token_app.cli import shipped_install_config_path

    # The default output is the package data the app reads before anything else.
    assert shipped_config_path() == shipped_install_config_path()
    assert '"*.json"' in (REPO / "pyproject.toml").read_text()  # the wheel carries it

    path = tmp_path / "install.json"
    out = io.StringIO()
    with override_settings(NETBANK_PUBLIC_URL="https://bank.example.jp"):
        call_command("token_install_config", "--output", str(path), stdout=out)
    config = install_config_load(path)
    assert config.bank_url == "https://bank.example.jp"
    assert config.bank_key.public_key == sk.signing_public_key_text()
    assert key_fingerprint(sk.signing_public_key_text()) in out.getvalue()


def test_token_install_config_refuses_a_next_key_that_does_not_outlive_the_current(
    tmp_path: Path,
) -> None:
    other = sk.signing_public_key_text()
    info = {
        "key_id": "",
        "not_after": "2030-01-01T00:00:00Z",
        "next_public_key": other,  # the same key as the current one
        "next_key_id": "",
        "next_not_after": "2031-01-01T00:00:00Z",
    }
    with override_settings(NETBANK_SIGNING_KEY_INFO=info), pytest.raises(CommandError):
        call_command("token_install_config", "--output", str(tmp_path / "x.json"))
    assert not (tmp_path / "x.json").exists()
