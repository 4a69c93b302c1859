"""NetBank OTP settings: one module, driven by environment variables.

``NETBANK_ENV=production`` turns on the production rules: SECRET_KEY and the OTP
key-encryption keys must come from the environment, cookies are secure, HSTS is on.
Anything else is development/demo: secrets are generated into the data folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import dj_database_url

from netbank.config.env import (
    data_dir,
    env_bool,
    env_int,
    env_str,
    is_production,
    local_secret,
    record_invalid,
)
from netbank.ops.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()
PRODUCTION = is_production()

DEBUG = env_bool("DEBUG", False)

# Production settings are checked at start-up (netbank.ops.checks): a missing or weak
# secret is reported there with every other problem, so this module always imports.
if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY")
else:
    SECRET_KEY = env_str("SECRET_KEY") or local_secret("secret_key")
# Old keys still accepted while SECRET_KEY changes (docs/operations.md "Key rotation").
SECRET_KEY_FALLBACKS = [k.strip() for k in env_str("SECRET_KEY_FALLBACKS").split(",") if k.strip()]

ALLOWED_HOSTS = [h for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",  # helpdesk operators only; customers are netbank.customers
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "netbank.web",
    "netbank.ops",
    "netbank.audit",
    "netbank.notifications",
    "netbank.customers",
    "netbank.otp",
    "netbank.passkeys",
    "netbank.banking",
    "netbank.helpdesk",
    "netbank.demo",
]

MIDDLEWARE = [
    # First, so every log line and audit record of the request carries its id.
    "netbank.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "netbank.web.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "netbank.customers.middleware.CustomerSessionMiddleware",
    "netbank.customers.login_devices.NewDeviceLoginMiddleware",
    # OTP mandatory: a session without OTP in use reaches the OTP application only.
    "netbank.otp.tokens.confinement.OtpSetupOnlyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "netbank.config.urls"
WSGI_APPLICATION = "netbank.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "netbank.web.context_processors.bank",
                "netbank.web.device.display_context",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env_str("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'netbank.sqlite3'}"
    try:
        db: dict[str, object] = dict(
            dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
        )
    except ValueError:
        # Reported by the start-up checks; the URL is not repeated (it may hold a password).
        record_invalid("DATABASE_URL", "is not a database URL (postgres://… or sqlite:///…)")
        return {"ENGINE": "django.db.backends.dummy"}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # The web server, the mail worker and the scheduler write at once: take the
        # write lock at BEGIN so no transaction fails half-way with "database is locked".
        db["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
        db["CONN_MAX_AGE"] = 0
    elif db["ENGINE"] == "django.db.backends.postgresql":
        # Server-side binding on, the pool off by default; docs/performance.md measures
        # both. Options from the URL (e.g. ?sslmode=verify-full) are kept.
        options = dict(cast(dict[str, object], db.get("OPTIONS") or {}))
        if env_bool("DB_SERVER_SIDE_BINDING", True):
            # Parameters travel apart from the SQL, and psycopg prepares a statement on
            # its DB_PREPARE_THRESHOLD-th use on a connection, so PostgreSQL parses and
            # plans it once (docs/performance.md). Set DB_SERVER_SIDE_BINDING=0 behind a
            # transaction-mode pooler such as pgbouncer: prepared statements are per
            # connection.
            options["server_side_binding"] = True
            options["prepare_threshold"] = env_int("DB_PREPARE_THRESHOLD", 5)
        if env_bool("DB_POOL", False):
            # psycopg's pool lends a connection per request (a pool cannot be combined
            # with Django's persistent connections).
            options["pool"] = {
                "min_size": env_int("DB_POOL_MIN_SIZE", 2),
                "max_size": env_int("DB_POOL_MAX_SIZE", 8),
                "timeout": env_int("DB_POOL_TIMEOUT", 10),
            }
            db["CONN_MAX_AGE"] = 0
        db["OPTIONS"] = options
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Customers and operators hash with Argon2id; the parameters are bank settings
# (at least OWASP's m=19 MiB, t=2, p=1). docs/security.md gives the measured cost.
PASSWORD_HASHERS = ["netbank.customers.hashers.NetbankArgon2PasswordHasher"]
NETBANK_ARGON2: dict[str, Any] = {
    "time_cost": env_int("NETBANK_ARGON2_TIME_COST", 2),
    "memory_cost": env_int("NETBANK_ARGON2_MEMORY_KIB", 19 * 1024),
    "parallelism": env_int("NETBANK_ARGON2_PARALLELISM", 1),
}

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Set STATIC_ROOT (and run collectstatic) in production; development serves from the apps.
STATIC_ROOT = env_str("STATIC_ROOT") or None

# Sessions: idle timeout and absolute lifetime are enforced by
# CustomerSessionMiddleware; the cookie itself lives no longer than the absolute limit.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
NETBANK_SESSION_IDLE_SECONDS = env_int("NETBANK_SESSION_IDLE_SECONDS", 5 * 60)
NETBANK_SESSION_ABSOLUTE_SECONDS = env_int("NETBANK_SESSION_ABSOLUTE_SECONDS", 60 * 60)
NETBANK_SESSION_WARNING_SECONDS = env_int("NETBANK_SESSION_WARNING_SECONDS", 60)
SESSION_COOKIE_AGE = NETBANK_SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "netbank_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_NAME = "netbank_csrf"
CSRF_FAILURE_VIEW = "netbank.web.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A form post bigger than this is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Mail. The OTP-service address is send-only, as the leaflet's is.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("SMTP_HOST", "127.0.0.1")
EMAIL_PORT = env_int("SMTP_PORT", 2525)
EMAIL_HOST_USER = env_str("SMTP_USER")
EMAIL_HOST_PASSWORD = env_str("SMTP_PASSWORD")
EMAIL_USE_TLS = env_bool("SMTP_STARTTLS", False)
EMAIL_USE_SSL = env_bool("SMTP_SSL", False)
EMAIL_TIMEOUT = env_int("SMTP_TIMEOUT", 10)
NETBANK_MAIL_FROM = env_str("NETBANK_MAIL_FROM", "netbank@otp-auth.example")
NETBANK_NOTICE_FROM = env_str("NETBANK_NOTICE_FROM", "notice@netbank.example")
NETBANK_MAIL_DOMAIN = env_str("NETBANK_MAIL_DOMAIN", "otp-auth.example")
# The outbox worker (`netbank send-mail`): retries back off exponentially up to the cap,
# for about the 24 h a token issue stays valid, then the row is marked failed.
NETBANK_MAIL_DELIVERY: dict[str, Any] = {
    "max_attempts": env_int("NETBANK_MAIL_MAX_ATTEMPTS", 30),
    "backoff_base_seconds": env_int("NETBANK_MAIL_BACKOFF_BASE_SECONDS", 30),
    "backoff_cap_seconds": env_int("NETBANK_MAIL_BACKOFF_CAP_SECONDS", 3600),
    # A row claimed longer ago than this whose worker never reported back is "uncertain".
    "sending_lease_seconds": env_int("NETBANK_MAIL_SENDING_LEASE_SECONDS", 600),
    "poll_seconds": env_int("NETBANK_MAIL_POLL_SECONDS", 5),
}
# /readyz reports the outbox stuck when queued mail has been due this long (no worker
# delivering), and bounds each of its database queries (PostgreSQL statement_timeout).
NETBANK_OUTBOX_STUCK_MINUTES = env_int("NETBANK_OUTBOX_STUCK_MINUTES", 15)
NETBANK_READY_DB_TIMEOUT_MS = env_int("NETBANK_READY_DB_TIMEOUT_MS", 1000)
# Sent and failed mail (bodies included) is deleted this long after it was queued.
NETBANK_OUTBOX_RETENTION_DAYS = env_int("NETBANK_OUTBOX_RETENTION_DAYS", 90)
# How long `netbank worker` keeps the record of each job's runs (ops.JobRun).
NETBANK_WORKER_HISTORY_DAYS = env_int("NETBANK_WORKER_HISTORY_DAYS", 30)

# The bank, as customers see it in every page footer and mail.
NETBANK_BANK_NAME = env_str("NETBANK_BANK_NAME", "ネットバンク")
NETBANK_BANK_NAME_EN = env_str("NETBANK_BANK_NAME_EN", "NetBank")
NETBANK_PUBLIC_URL = env_str("NETBANK_PUBLIC_URL", "http://127.0.0.1:8000")
# Passkeys (netbank.passkeys, docs/operations.md): the WebAuthn relying party id (default:
# the host of NETBANK_PUBLIC_URL) and the origins whose assertions are accepted (a comma
# list; default: NETBANK_PUBLIC_URL's origin). Empty here means "follow NETBANK_PUBLIC_URL"
# (read on use: the demo sets that URL after start-up). NETBANK_PASSKEY_REQUIRED: once a
# customer has a passkey, OTP-only logins and confirmations are refused for them.
NETBANK_WEBAUTHN_RP_ID = env_str("NETBANK_WEBAUTHN_RP_ID")
NETBANK_WEBAUTHN_ORIGINS = [o for o in env_str("NETBANK_WEBAUTHN_ORIGINS").split(",") if o.strip()]
NETBANK_PASSKEY_REQUIRED = env_bool("NETBANK_PASSKEY_REQUIRED", False)
NETBANK_HELPDESK: dict[str, Any] = {
    "phone": env_str("NETBANK_HELPDESK_PHONE", "0120-058-098"),
    "general_option": env_str("NETBANK_HELPDESK_GENERAL_OPTION", "1"),
    "emergency_option": env_str("NETBANK_HELPDESK_EMERGENCY_OPTION", "3"),
    "weekday_hours": env_str("NETBANK_HELPDESK_WEEKDAY_HOURS", "9:00～21:00"),
    "holiday_hours": env_str("NETBANK_HELPDESK_HOLIDAY_HOURS", "9:00～17:00"),
    "closed_days": env_str("NETBANK_HELPDESK_CLOSED_DAYS", "1月1日"),
    # The same three for pages shown in English.
    "weekday_hours_en": env_str("NETBANK_HELPDESK_WEEKDAY_HOURS_EN", "9:00–21:00"),
    "holiday_hours_en": env_str("NETBANK_HELPDESK_HOLIDAY_HOURS_EN", "9:00–17:00"),
    "closed_days_en": env_str("NETBANK_HELPDESK_CLOSED_DAYS_EN", "1 January"),
}

# OTP service. サービスID names this bank inside the OTP service.
NETBANK_OTP: dict[str, Any] = {
    "service_id": env_str("NETBANK_OTP_SERVICE_ID", "100001"),
    "algorithm": env_str("NETBANK_OTP_ALGORITHM", "SHA1"),
    "digits": env_int("NETBANK_OTP_DIGITS", 6),
    "period": env_int("NETBANK_OTP_PERIOD", 30),
    "window": env_int("NETBANK_OTP_WINDOW", 1),
    "issue_ttl_seconds": env_int("NETBANK_OTP_ISSUE_TTL_SECONDS", 24 * 3600),
    "allow_authenticator_apps": env_bool("NETBANK_OTP_ALLOW_AUTHENTICATOR_APPS", True),
    "mandatory": env_bool("NETBANK_OTP_MANDATORY", False),
    # Lifetime of a Directログイン URL; never more than 60 s whatever is set here.
    "direct_login_url_seconds": env_int("NETBANK_OTP_DIRECT_LOGIN_URL_SECONDS", 60),
    "app_download_path": "/app/",
}

# Lockouts (DESIGN.md "Security policy"): 5 consecutive failures lock for 30 min,
# doubling on each repeat; the third lock within 24 h is permanent until the helpdesk.
NETBANK_LOCKOUT: dict[str, Any] = {
    "max_failures": env_int("NETBANK_LOCKOUT_MAX_FAILURES", 5),
    "first_lock_seconds": env_int("NETBANK_LOCKOUT_FIRST_SECONDS", 30 * 60),
    "permanent_after_locks": env_int("NETBANK_LOCKOUT_PERMANENT_AFTER", 3),
    "lock_window_seconds": env_int("NETBANK_LOCKOUT_WINDOW_SECONDS", 24 * 3600),
}
# Banking (netbank/banking/conf.py has every key and its default; docs/banking.md).
NETBANK_BANKING: dict[str, Any] = {
    "bank_code": env_str("NETBANK_BANK_CODE", "9999"),
    "default_daily_limit": env_int("NETBANK_DEFAULT_DAILY_LIMIT", 1_000_000),
    "max_daily_limit": env_int("NETBANK_MAX_DAILY_LIMIT", 10_000_000),
    "unsigned_daily_limit": env_int("NETBANK_UNSIGNED_DAILY_LIMIT", 100_000),
    "signing_threshold": env_int("NETBANK_SIGNING_THRESHOLD", 300_000),
    "new_token_hold_seconds": env_int("NETBANK_NEW_TOKEN_HOLD_SECONDS", 24 * 3600),
}
# Per-IP throttling of credential checks, before any password hash is computed.
NETBANK_THROTTLE: dict[str, Any] = {
    "login_per_ip_per_minute": env_int("NETBANK_THROTTLE_LOGIN_PER_IP_PER_MINUTE", 20),
    # Token-app activation requests (both rounds) per client address.
    "activation_per_ip_per_minute": env_int("NETBANK_THROTTLE_ACTIVATION_PER_IP_PER_MINUTE", 30),
    # OTP verification API calls per channel (API key) per minute.
    "verify_per_channel_per_minute": env_int(
        "NETBANK_THROTTLE_VERIFY_PER_CHANNEL_PER_MINUTE", 6000
    ),
}

# Key-encryption keys for OTP seeds: "kid:base64key[,kid:base64key...]", the first
# one encrypts; the others still decrypt until `netbank rotate-otp-key` has run.
NETBANK_OTP_KEYS = env_str("NETBANK_OTP_KEYS")
# The bank's long-term Ed25519 key that signs activation answers.
NETBANK_SIGNING_KEY_FILE = env_str(
    "NETBANK_SIGNING_KEY_FILE", str(DATA_DIR / "bank_signing_key.pem")
)
# What the token app's install configuration says about that key (docs/protocols.md 1.10):
# its id (default: derived from the key), its not-after time (ISO 8601 UTC, e.g.
# 2028-12-31T23:59:59Z; default: two years after the key file was written) and, while the
# key is rolled over, the next key's public key, id and not-after time.
NETBANK_SIGNING_KEY_INFO = {
    "key_id": env_str("NETBANK_SIGNING_KEY_ID"),
    "not_after": env_str("NETBANK_SIGNING_KEY_NOT_AFTER"),
    "next_public_key": env_str("NETBANK_SIGNING_KEY_NEXT_PUBLIC"),
    "next_key_id": env_str("NETBANK_SIGNING_KEY_NEXT_ID"),
    "next_not_after": env_str("NETBANK_SIGNING_KEY_NEXT_NOT_AFTER"),
}
# Audit trail (docs/audit.md). `netbank audit-checkpoint` appends MAC'd chain heads to
# files in this folder; keep it off the database server. The MAC key is required in
# production; elsewhere one is generated into the data folder.
NETBANK_AUDIT_CHECKPOINT_DIR = env_str(
    "NETBANK_AUDIT_CHECKPOINT_DIR", str(DATA_DIR / "audit-checkpoints")
)
NETBANK_AUDIT_MAC_KEY = env_str("NETBANK_AUDIT_MAC_KEY")
# The audit tables are append-only; only the test settings let `flush` erase them.
NETBANK_AUDIT_FLUSH_ALLOWED = False

# One line a record on stderr: JSON objects for a log shipper (the production default) or
# text for a person (netbank.ops.logs); both carry the request id.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text").strip().lower()
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    record_invalid(
        "LOG_LEVEL", f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}"
    )
    LOG_LEVEL = "INFO"
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)

# Static files are served by the app itself (WhiteNoise), so the demo needs no web server.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
