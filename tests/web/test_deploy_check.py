"""Production mode: `netbank check --deploy` is clean for a good configuration, and every
problem of a bad one is reported at once, each with its id, before anything starts."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PRODUCTION_ENV = {
    "NETBANK_ENV": "production",
    "SECRET_KEY": base64.b64encode(bytes(range(7, 250, 5))).decode(),
    "NETBANK_OTP_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
    "NETBANK_AUDIT_MAC_KEY": base64.b64encode(bytes(range(100, 140))).decode(),
    "ALLOWED_HOSTS": "bank.example.jp",
    "CSRF_TRUSTED_ORIGINS": "https://bank.example.jp",
    "NETBANK_PUBLIC_URL": "https://bank.example.jp",
    "SMTP_STARTTLS": "true",
}


def signing_key_file(folder: Path) -> Path:
    """A bank signing key as `netbank create-signing-key` leaves it (PKCS#8 PEM, 0600)."""
    path = folder / "bank_signing_key.pem"
    folder.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


def production_env(tmp_path: Path) -> dict[str, str]:
    key = signing_key_file(tmp_path / "keys")
    return {**PRODUCTION_ENV, "NETBANK_SIGNING_KEY_FILE": str(key)}


def clean_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NETBANK_", "DJANGO_"))}
    for name in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "LOG_FORMAT", "LOG_LEVEL", "ALLOWED_HOSTS"):
        clean.pop(name, None)
    clean.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
            "NETBANK_DATA_DIR": str(tmp_path / "var"),
            **env,
        }
    )
    return clean


def _netbank(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netbank.cli", *args],
        env=clean_env(env, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    result = _netbank(
        ["check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path), tmp_path
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in production_env(tmp_path).items() if k != "SECRET_KEY"}
    result = _netbank(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "(netbank.E001) SECRET_KEY must be set" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_mode_refuses_to_start_without_otp_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in production_env(tmp_path).items() if k != "NETBANK_OTP_KEYS"}
    result = _netbank(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "(netbank.E004) NETBANK_OTP_KEYS must be set" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_every_problem_is_reported_at_once_with_its_id(tmp_path: Path) -> None:
    env = {
        "NETBANK_ENV": "production",
        "SECRET_KEY": "short",
        "SECRET_KEY_FALLBACKS": "also-short",
        "NETBANK_OTP_KEYS": "k1:bm90LTMyLWJ5dGVz",
        "NETBANK_SIGNING_KEY_FILE": str(tmp_path / "missing.pem"),
        "ALLOWED_HOSTS": "*",
        "CSRF_TRUSTED_ORIGINS": "http://bank.example.jp",
        "NETBANK_TRUSTED_PROXIES": "10.0.0.1/8",
        "LOG_FORMAT": "xml",
        "LOG_LEVEL": "LOUD",
        "DATABASE_URL": "nosuchdb://bank:db-password-0417@db.example.jp/bank",
        "NETBANK_SESSION_IDLE_SECONDS": "five minutes",
    }
    result = _netbank(["check", "--deploy"], env, tmp_path)
    assert result.returncode != 0
    for expected in (
        "(netbank.E002) SECRET_KEY is too short",
        "(netbank.E003) SECRET_KEY_FALLBACKS entry 1 is too short",
        "(netbank.E005) NETBANK_OTP_KEYS key 'k1' must be 32 bytes",
        "(netbank.E006) NETBANK_SIGNING_KEY_FILE: the bank signing key",
        "(netbank.E007) NETBANK_AUDIT_MAC_KEY must be set",
        "(netbank.E008) Mail to the SMTP relay must go over TLS",
        "(netbank.E011) ALLOWED_HOSTS must not contain '*'",
        "(netbank.E012) NETBANK_TRUSTED_PROXIES entry '10.0.0.1/8'",
        "(netbank.E013) CSRF_TRUSTED_ORIGINS entry 'http://bank.example.jp'",
        "(netbank.E014) LOG_FORMAT must be json or text, not 'xml'",
        "(netbank.E015) NETBANK_SESSION_IDLE_SECONDS must be a whole number",
        "(netbank.E015) LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not 'LOUD'",
        "(netbank.E015) DATABASE_URL is not a database URL",
        "(netbank.E016) NETBANK_PUBLIC_URL",
    ):
        assert expected in result.stderr, (expected, result.stderr)
    # Names the variables, never repeats a secret.
    assert "short" not in result.stderr.replace("too short", "")
    assert "bm90LTMyLWJ5dGVz" not in result.stderr
    assert "db-password-0417" not in result.stderr
