"""The one credential check: lock → refuse if locked → verify → consume → count → audit.

Every kind of one-time credential (the customer's OTP, 取引認証 codes, the operators'
TOTP) runs ``credential_check``: the kind says how to lock its rows, how to verify, how
to consume a code so it is never accepted twice, which lockout counter it counts on and
which audit events it writes; the order of the steps is written here once.

This package holds no models and imports nothing of the bank but the metrics leaf
(``netbank.ops.metrics``), so every app may use it (docs/architecture.md, "The credential
core").
"""

from netbank.credentials.core import (
    CredentialCheck,
    FailureCounter,
    LockingCheck,
    Verdict,
    credential_check,
    credential_check_locked,
)

__all__ = [
    "CredentialCheck",
    "FailureCounter",
    "LockingCheck",
    "Verdict",
    "credential_check",
    "credential_check_locked",
]
