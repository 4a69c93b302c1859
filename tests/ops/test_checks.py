"""Each start-up check: its message for a bad value, silence for a good one; and the
servers refuse to start (their WSGI modules exit with the messages) while one fails."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.checks import CheckMessage
from django.test import override_settings

from netbank.config import env
from netbank.ops import checks
from tests.granian import free_port, granian_command
from tests.web.test_deploy_check import clean_env, production_env, signing_key_file

GOOD_SECRET = base64.b64encode(bytes(range(7, 250, 5))).decode()
GOOD_OTP_KEYS = "k1:" + base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Production mode (settings and the environment the key loaders read)."""
    monkeypatch.setenv("NETBANK_ENV", "production")
    with override_settings(PRODUCTION=True):
        yield


def ids(problems: list[CheckMessage]) -> list[str]:
    return [str(p.id) for p in problems]


def texts(problems: list[CheckMessage]) -> str:
    return "\n".join(str(p) for p in problems)


Check = Callable[[], list[CheckMessage]]


@pytest.mark.parametrize(
    ("check", "bad", "good", "id_", "message"),
    [
        (
            checks.secret_keys,
            {"SECRET_KEY": ""},
            {"SECRET_KEY": GOOD_SECRET},
            "netbank.E001",
            "SECRET_KEY must be set",
        ),
        (
            checks.secret_keys,
            {"SECRET_KEY": "a" * 60},
            {"SECRET_KEY": GOOD_SECRET},
            "netbank.E002",
            "SECRET_KEY is too short or not random enough",
        ),
        (
            checks.secret_keys,
            {"SECRET_KEY": "django-insecure-" + GOOD_SECRET},
            {"SECRET_KEY": GOOD_SECRET},
            "netbank.E002",
            "not random enough",
        ),
        (
            checks.secret_keys,
            {"SECRET_KEY": GOOD_SECRET, "SECRET_KEY_FALLBACKS": [GOOD_SECRET[::-1], "old"]},
            {"SECRET_KEY": GOOD_SECRET, "SECRET_KEY_FALLBACKS": [GOOD_SECRET[::-1]]},
            "netbank.E003",
            "SECRET_KEY_FALLBACKS entry 2 is too short",
        ),
        (
            checks.otp_keys,
            {"NETBANK_OTP_KEYS": ""},
            {"NETBANK_OTP_KEYS": GOOD_OTP_KEYS},
            "netbank.E004",
            "NETBANK_OTP_KEYS must be set",
        ),
        (
            checks.otp_keys,
            {"NETBANK_OTP_KEYS": f"{GOOD_OTP_KEYS},{GOOD_OTP_KEYS}"},
            {"NETBANK_OTP_KEYS": f"{GOOD_OTP_KEYS},k2{GOOD_OTP_KEYS[2:]}"},
            "netbank.E005",
            "NETBANK_OTP_KEYS names key 'k1' twice",
        ),
        (
            checks.otp_keys,
            {"NETBANK_OTP_KEYS": "k1:not base64!"},
            {"NETBANK_OTP_KEYS": GOOD_OTP_KEYS},
            "netbank.E005",
            "is not base64",
        ),
        (
            checks.otp_keys,
            {"NETBANK_OTP_KEYS": base64.b64encode(bytes(32)).decode()},
            {"NETBANK_OTP_KEYS": GOOD_OTP_KEYS},
            "netbank.E005",
            "entries must look like kid:base64key",
        ),
        (
            checks.audit_mac_key,
            {"NETBANK_AUDIT_MAC_KEY": ""},
            {"NETBANK_AUDIT_MAC_KEY": "m" * 8 + GOOD_SECRET},
            "netbank.E007",
            "NETBANK_AUDIT_MAC_KEY must be set",
        ),
        (
            checks.audit_mac_key,
            {"NETBANK_AUDIT_MAC_KEY": "too-short"},
            {"NETBANK_AUDIT_MAC_KEY": GOOD_SECRET},
            "netbank.E007",
            "at least 32 characters",
        ),
        (
            checks.smtp_tls,
            {"EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False},
            {"EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False},
            "netbank.E008",
            "must go over TLS",
        ),
        (
            checks.smtp_tls,
            {"EMAIL_USE_TLS": True, "EMAIL_USE_SSL": True},
            {"EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True},
            "netbank.E009",
            "SMTP_STARTTLS and SMTP_SSL are both on",
        ),
        (
            checks.allowed_hosts,
            {"ALLOWED_HOSTS": []},
            {"ALLOWED_HOSTS": ["bank.example.jp"]},
            "netbank.E010",
            "ALLOWED_HOSTS must name",
        ),
        (
            checks.allowed_hosts,
            {"ALLOWED_HOSTS": ["bank.example.jp", "*"]},
            {"ALLOWED_HOSTS": ["bank.example.jp", ".bank.example.jp"]},
            "netbank.E011",
            "must not contain '*'",
        ),
        (
            checks.https_origins,
            {"CSRF_TRUSTED_ORIGINS": ["https://bank.example.jp", "http://bank.example.jp"]},
            {"CSRF_TRUSTED_ORIGINS": ["https://bank.example.jp"]},
            "netbank.E013",
            "'http://bank.example.jp' must be an https:// origin",
        ),
        (
            checks.https_origins,
            {"NETBANK_PUBLIC_URL": "http://bank.example.jp"},
            {"NETBANK_PUBLIC_URL": "https://bank.example.jp"},
            "netbank.E016",
            "must be an https:// URL",
        ),
        (
            checks.https_origins,
            {"NETBANK_WEBAUTHN_ORIGINS": ["bank.example.jp"]},
            {"NETBANK_WEBAUTHN_ORIGINS": ["https://bank.example.jp"]},
            "netbank.E017",
            "NETBANK_WEBAUTHN_ORIGINS entry 'bank.example.jp'",
        ),
        (
            checks.https_origins,
            {"DEBUG": True},
            {"DEBUG": False},
            "netbank.E018",
            "DEBUG must be off",
        ),
        (
            checks.log_format,
            {"LOG_FORMAT": "xml"},
            {"LOG_FORMAT": "json"},
            "netbank.E014",
            "LOG_FORMAT must be json or text, not 'xml'",
        ),
    ],
)
def test_a_bad_value_is_reported_and_a_good_one_passes(
    production: None,
    check: Check,
    bad: dict[str, object],
    good: dict[str, object],
    id_: str,
    message: str,
) -> None:
    base = {"NETBANK_PUBLIC_URL": "https://bank.example.jp", "CSRF_TRUSTED_ORIGINS": []}
    with override_settings(**{**base, **bad}):
        problems = check()
    assert id_ in ids(problems), texts(problems)
    assert message in texts(problems)
    with override_settings(**{**base, **good}):
        assert check() == []


def test_no_message_repeats_a_secret(production: None) -> None:
    weak = "weak-but-secret-value"
    with override_settings(
        SECRET_KEY=weak,
        SECRET_KEY_FALLBACKS=[weak + "-old"],
        NETBANK_OTP_KEYS="k1:c2VjcmV0LWJ1dC1zaG9ydA==",
        NETBANK_AUDIT_MAC_KEY="mac-" + weak,
    ):
        problems = checks.settings_check()
    assert {"netbank.E002", "netbank.E003", "netbank.E005", "netbank.E007"} <= set(ids(problems))
    assert weak not in texts(problems)
    assert "c2VjcmV0LWJ1dC1zaG9ydA" not in texts(problems)


def test_the_signing_key_file_must_exist_and_load(production: None, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with override_settings(NETBANK_SIGNING_KEY_FILE=str(missing)):
        problems = checks.signing_key_file()
    assert ids(problems) == ["netbank.E006"]
    assert "does not exist; run `netbank create-signing-key`" in texts(problems)

    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    not_a_key.chmod(0o600)
    with override_settings(NETBANK_SIGNING_KEY_FILE=str(not_a_key)):
        assert "is not an unencrypted PEM private key" in texts(checks.signing_key_file())

    good = signing_key_file(tmp_path / "keys")
    good.chmod(0o644)
    with override_settings(NETBANK_SIGNING_KEY_FILE=str(good)):
        assert "must not be readable by others" in texts(checks.signing_key_file())
    good.chmod(0o600)
    with override_settings(NETBANK_SIGNING_KEY_FILE=str(good)):
        assert checks.signing_key_file() == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("*", "'*'"),
        ("10.0.0.5, lb.example.jp", "'lb.example.jp'"),
        ("10.0.0.1/8", "has host bits set"),
        (" , ", "names no address"),
    ],
)
def test_trusted_proxies_must_be_addresses_or_networks(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("NETBANK_TRUSTED_PROXIES", value)
    problems = checks.trusted_proxies()
    assert ids(problems) == ["netbank.E012"], texts(problems)
    assert problem in texts(problems)
    monkeypatch.setenv("NETBANK_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16, 2001:db8::/32")
    assert checks.trusted_proxies() == []
    monkeypatch.delenv("NETBANK_TRUSTED_PROXIES")
    assert checks.trusted_proxies() == []


def test_an_unreadable_number_or_switch_is_reported_and_the_default_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(env, "_INVALID", {})
    monkeypatch.setenv("NETBANK_LOCKOUT_MAX_FAILURES", "5x")
    monkeypatch.setenv("SMTP_STARTTLS", "maybe")
    assert env.env_int("NETBANK_LOCKOUT_MAX_FAILURES", 5) == 5
    assert env.env_bool("SMTP_STARTTLS", False) is False
    problems = checks.readable_values()
    assert ids(problems) == ["netbank.E015", "netbank.E015"]
    assert "NETBANK_LOCKOUT_MAX_FAILURES must be a whole number, not '5x'" in texts(problems)
    assert "SMTP_STARTTLS must be true or false" in texts(problems)
    monkeypatch.setattr(env, "_INVALID", {})
    monkeypatch.setenv("SMTP_STARTTLS", "off")
    assert env.env_bool("SMTP_STARTTLS", True) is False
    assert checks.readable_values() == []


def test_outside_production_the_secrets_are_not_required() -> None:
    with override_settings(
        SECRET_KEY="x" * 60, NETBANK_AUDIT_MAC_KEY="", EMAIL_USE_TLS=False, ALLOWED_HOSTS=[]
    ):
        assert checks.settings_check() == []


def test_the_refusal_lists_every_error_and_exits(
    production: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        override_settings(ALLOWED_HOSTS=["*"], EMAIL_USE_TLS=False, EMAIL_USE_SSL=False),
        pytest.raises(SystemExit) as exited,
    ):
        checks.refuse_to_start_if_misconfigured()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "NetBank refuses to start" in err
    assert "(netbank.E011)" in err
    assert "(netbank.E008)" in err


# --- The servers themselves -----------------------------------------------------------


def _import(module: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import {module}; print('serving', {module}.application)"],
        env=clean_env(env, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("module", ["netbank.config.wsgi", "netbank.config.wsgi_api"])
def test_a_server_refuses_to_start_with_a_bad_configuration(module: str, tmp_path: Path) -> None:
    good = production_env(tmp_path)
    started = _import(module, good, tmp_path)
    assert started.returncode == 0, started.stderr
    assert "serving" in started.stdout

    bad = {**good, "SMTP_STARTTLS": "false", "NETBANK_OTP_KEYS": "k1:short"}
    refused = _import(module, bad, tmp_path)
    assert refused.returncode == 1
    assert "serving" not in refused.stdout
    assert "NetBank refuses to start" in refused.stderr
    assert "(netbank.E005) NETBANK_OTP_KEYS key 'k1'" in refused.stderr
    assert "(netbank.E008)" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_granian_exits_with_the_messages_instead_of_serving(tmp_path: Path) -> None:
    """The API nodes' server: its worker refuses to load the application, and granian
    stops with an error status instead of serving (or restarting the worker forever)."""
    env = {**production_env(tmp_path), "SMTP_STARTTLS": "false", "ALLOWED_HOSTS": "*"}
    result = subprocess.run(
        granian_command("netbank.config.wsgi_api:application", free_port()),
        env=clean_env(env, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "NetBank refuses to start" in output
    assert "(netbank.E008)" in output
    assert "(netbank.E011)" in output
