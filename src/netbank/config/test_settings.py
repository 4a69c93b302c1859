"""Test settings: the production module with cheap Argon2 and fixed test secrets.

Only what must differ for speed and determinism differs; a test asserts the
production Argon2 defaults in settings.py.
"""

from __future__ import annotations

import os
import tempfile

# Set before the settings module reads them, so tests never write secrets to var/.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("NETBANK_OTP_KEYS", "test1:dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE=")
# The bank's activation signing key: made on first use in a per-user temporary folder.
os.environ.setdefault(
    "NETBANK_SIGNING_KEY_FILE",
    os.path.join(tempfile.gettempdir(), f"netbank-test-{os.getuid()}", "bank_signing_key.pem"),
)

from netbank.config.settings import *  # noqa: F403

NETBANK_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# The test runner empties every table between transactional tests, the audit trail too.
NETBANK_AUDIT_FLUSH_ALLOWED = True
NETBANK_AUDIT_MAC_KEY = "test-only-audit-checkpoint-mac-key-0123456789abcdef"
NETBANK_AUDIT_CHECKPOINT_DIR = os.path.join(
    tempfile.gettempdir(), f"netbank-test-{os.getuid()}", "audit-checkpoints"
)
