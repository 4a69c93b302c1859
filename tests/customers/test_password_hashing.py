"""Argon2id with the production parameters: read from the settings module itself,
in a clean process with no NETBANK_* variables, not from the cheap test settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.test import override_settings

_PROBE = """
import json
import netbank.config.settings as s
print(json.dumps({
    "argon2": s.NETBANK_ARGON2,
    "hashers": s.PASSWORD_HASHERS,
    "debug": s.DEBUG,
    "session_cookie_secure": getattr(s, "SESSION_COOKIE_SECURE", False),
    "csrf_cookie_secure": getattr(s, "CSRF_COOKIE_SECURE", False),
    "hsts": getattr(s, "SECURE_HSTS_SECONDS", 0),
    "idle": s.NETBANK_SESSION_IDLE_SECONDS,
    "absolute": s.NETBANK_SESSION_ABSOLUTE_SECONDS,
    "lockout": s.NETBANK_LOCKOUT,
    "x_frame": s.X_FRAME_OPTIONS,
}))
"""


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NETBANK_", "DJANGO_", "SECRET_KEY", "DATABASE_URL", "DEBUG"))
    }
    env["NETBANK_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def _settings_in_clean_process(env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_production_argon2_defaults_meet_owasp_minimums(tmp_path: Path) -> None:
    values = _settings_in_clean_process(_clean_env(tmp_path))
    argon2 = values["argon2"]
    assert argon2["time_cost"] >= 2
    assert argon2["memory_cost"] >= 19456  # KiB: OWASP's 19 MiB
    assert argon2["parallelism"] >= 1
    assert values["hashers"][0] == "netbank.customers.hashers.NetbankArgon2PasswordHasher"


def test_production_mode_settings_are_strict(tmp_path: Path) -> None:
    values = _settings_in_clean_process(
        _clean_env(
            tmp_path,
            NETBANK_ENV="production",
            SECRET_KEY="x" * 60,
            NETBANK_OTP_KEYS="k1:dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE=",
        )
    )
    assert values["debug"] is False
    assert values["session_cookie_secure"] is True
    assert values["csrf_cookie_secure"] is True
    assert values["hsts"] >= 31536000
    assert values["x_frame"] == "DENY"
    assert values["idle"] == 300
    assert values["absolute"] == 3600
    assert values["lockout"] == {
        "max_failures": 5,
        "first_lock_seconds": 1800,
        "permanent_after_locks": 3,
        "lock_window_seconds": 86400,
    }
    assert values["argon2"]["memory_cost"] >= 19456


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "netbank.cli", "check"],
        env=_clean_env(tmp_path, NETBANK_ENV="production"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_the_hasher_really_uses_argon2id_with_the_production_parameters(tmp_path: Path) -> None:
    argon2 = _settings_in_clean_process(_clean_env(tmp_path))["argon2"]
    with override_settings(NETBANK_ARGON2=argon2):
        encoded = make_password("Passw0rd2026")
        assert encoded.startswith(
            f"argon2$argon2id$v=19$m={argon2['memory_cost']},"
            f"t={argon2['time_cost']},p={argon2['parallelism']}$"
        )
        assert check_password("Passw0rd2026", encoded)
        assert not check_password("Passw0rd2027", encoded)
