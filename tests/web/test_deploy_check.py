"""Production mode: `netbank check --deploy` is clean, and missing secrets fail loudly."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

PRODUCTION_ENV = {
    "NETBANK_ENV": "production",
    "SECRET_KEY": base64.b64encode(bytes(range(7, 250, 5))).decode(),
    "NETBANK_OTP_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
    "ALLOWED_HOSTS": "bank.example.jp",
}


def _netbank(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NETBANK_", "DJANGO_"))}
    clean.pop("SECRET_KEY", None)
    clean.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
            "NETBANK_DATA_DIR": str(tmp_path / "var"),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "netbank.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    result = _netbank(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _netbank(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_mode_refuses_to_start_without_otp_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "NETBANK_OTP_KEYS"}
    result = _netbank(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "NETBANK_OTP_KEYS must be set" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()
