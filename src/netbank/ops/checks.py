"""Start-up checks of the settings: every problem reported at once, each with its id.

``netbank check`` (and ``--deploy``) lists them; the web and API servers and the worker
call ``refuse_to_start_if_misconfigured()`` and do not start while any is an error.
Registered by ``OpsConfig.ready``. Outside production only the checks of values that are
wrong anywhere run (a malformed key ring, a bad number, untrusted proxies, …); production
also requires every secret and the TLS settings. Messages name the variable and never
repeat a secret.
"""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from netbank.config.env import invalid_values
from netbank.ops.logs import FORMATS
from netbank.web.client_address import TRUSTED_PROXIES_ENV, proxy_network

# Django's own rule for a strong SECRET_KEY (its security.W009), made an error here.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5
_INSECURE_PREFIX = "django-insecure-"


def _error(id_: int, msg: str, hint: str | None = None) -> checks.Error:
    return checks.Error(msg, hint=hint, id=f"netbank.E{id_:03d}")


def _production() -> bool:
    return bool(getattr(settings, "PRODUCTION", False))


def _weak(key: str) -> bool:
    return (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE
        or key.startswith(_INSECURE_PREFIX)
    )


_STRONG_HINT = (
    f"At least {SECRET_KEY_MIN_LENGTH} random characters, e.g. "
    "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
)


def secret_keys() -> list[checks.CheckMessage]:
    if not _production():
        return []
    try:
        key = str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:  # Django refuses to hand out an empty SECRET_KEY
        key = ""
    problems: list[checks.CheckMessage] = []
    if not key:
        problems.append(
            _error(1, "SECRET_KEY must be set when NETBANK_ENV=production.", _STRONG_HINT)
        )
    elif _weak(key):
        problems.append(_error(2, "SECRET_KEY is too short or not random enough.", _STRONG_HINT))
    fallbacks = list(getattr(settings, "SECRET_KEY_FALLBACKS", []))
    weak = [str(n) for n, old in enumerate(fallbacks, start=1) if _weak(str(old))]
    if weak:
        problems.append(
            _error(
                3,
                f"SECRET_KEY_FALLBACKS entry {', '.join(weak)} is too short or not random enough.",
                "Only a key that was a valid SECRET_KEY belongs there.",
            )
        )
    return problems


def otp_keys() -> list[checks.CheckMessage]:
    if not settings.NETBANK_OTP_KEYS:
        if _production():
            return [
                _error(
                    4,
                    "NETBANK_OTP_KEYS must be set when NETBANK_ENV=production.",
                    "kid:base64 of 32 random bytes, e.g. k1:$(head -c32 /dev/urandom | base64).",
                )
            ]
        return []
    from netbank.otp.crypto import keyring

    try:
        keyring()
    except ImproperlyConfigured as exc:
        return [_error(5, f"{exc}.", "Entries are kid:base64 of 32 bytes, comma-separated.")]
    return []


def signing_key_file() -> list[checks.CheckMessage]:
    if not _production():
        return []  # development makes the key on first use
    from netbank.otp.activation.signing_key import SigningKeyError, signing_key

    try:
        signing_key()
    except SigningKeyError as exc:
        return [_error(6, f"NETBANK_SIGNING_KEY_FILE: {exc}.")]
    return []


def audit_mac_key() -> list[checks.CheckMessage]:
    if not _production() and not getattr(settings, "NETBANK_AUDIT_MAC_KEY", ""):
        return []  # development makes one in the data folder
    from netbank.audit.checkpoints import CheckpointKeyError, mac_key

    try:
        mac_key()
    except CheckpointKeyError as exc:
        return [_error(7, f"{exc}.")]
    return []


def smtp_tls() -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    if settings.EMAIL_USE_TLS and settings.EMAIL_USE_SSL:
        problems.append(
            _error(9, "SMTP_STARTTLS and SMTP_SSL are both on; set one.", "SMTP_SSL for port 465.")
        )
    elif _production() and not (settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL):
        problems.append(
            _error(
                8,
                "Mail to the SMTP relay must go over TLS in production.",
                "Set SMTP_STARTTLS=true (port 587) or SMTP_SSL=true (port 465).",
            )
        )
    return problems


def allowed_hosts() -> list[checks.CheckMessage]:
    if not _production():
        return []
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts:
        return [_error(10, "ALLOWED_HOSTS must name the bank's host names.")]
    if any(host.strip() == "*" for host in hosts):
        return [
            _error(11, "ALLOWED_HOSTS must not contain '*'.", "Name the bank's host names only.")
        ]
    return []


def trusted_proxies() -> list[checks.CheckMessage]:
    raw = os.environ.get(TRUSTED_PROXIES_ENV, "")
    if not raw.strip():
        return []  # no load balancer: REMOTE_ADDR is the client
    entries = [part.strip() for part in raw.split(",") if part.strip()]
    hint = "The load balancers' addresses or networks, e.g. 10.0.0.5,10.1.0.0/16."
    if not entries:
        return [_error(12, "NETBANK_TRUSTED_PROXIES names no address.", hint)]
    problems: list[checks.CheckMessage] = []
    for entry in entries:
        try:
            proxy_network(entry)
        except ValueError as exc:
            problems.append(
                _error(
                    12,
                    f"NETBANK_TRUSTED_PROXIES entry {entry!r} is not an address or network "
                    f"({exc}).",
                    hint,
                )
            )
    return problems


def _https(values: list[str]) -> list[str]:
    return [v for v in values if urlsplit(v).scheme != "https" or not urlsplit(v).netloc]


def https_origins() -> list[checks.CheckMessage]:
    if not _production():
        return []
    problems: list[checks.CheckMessage] = []
    for origin in _https(list(settings.CSRF_TRUSTED_ORIGINS)):
        problems.append(
            _error(13, f"CSRF_TRUSTED_ORIGINS entry {origin!r} must be an https:// origin.")
        )
    if _https([str(settings.NETBANK_PUBLIC_URL)]):
        problems.append(
            _error(
                16,
                f"NETBANK_PUBLIC_URL {settings.NETBANK_PUBLIC_URL!r} must be an https:// URL.",
                "Mails and the token app link to it.",
            )
        )
    for origin in _https(list(settings.NETBANK_WEBAUTHN_ORIGINS)):
        problems.append(
            _error(17, f"NETBANK_WEBAUTHN_ORIGINS entry {origin!r} must be an https:// origin.")
        )
    if settings.DEBUG:
        problems.append(_error(18, "DEBUG must be off in production (it shows settings)."))
    return problems


def log_format() -> list[checks.CheckMessage]:
    value = getattr(settings, "LOG_FORMAT", "text")
    if value in FORMATS:
        return []
    return [_error(14, f"LOG_FORMAT must be json or text, not {value!r}.")]


def readable_values() -> list[checks.CheckMessage]:
    return [_error(15, f"{name} {why}.") for name, why in sorted(invalid_values().items())]


CHECKS = (
    secret_keys,
    otp_keys,
    signing_key_file,
    audit_mac_key,
    smtp_tls,
    allowed_hosts,
    trusted_proxies,
    https_origins,
    log_format,
    readable_values,
)


def settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every problem of every check above (registered as one Django system check)."""
    return [problem for check in CHECKS for problem in check()]


def refuse_to_start_if_misconfigured() -> None:
    """Run Django's system checks (with the deploy ones in production) and exit with every
    error's message when there is one: the servers and the worker call this at start-up."""
    problems = [
        message
        for message in checks.run_checks(include_deployment_checks=_production())
        if message.is_serious()
    ]
    if problems:
        lines = "\n".join(str(problem) for problem in problems)
        print(f"NetBank refuses to start; fix the configuration:\n{lines}", file=sys.stderr)
        raise SystemExit(1)
