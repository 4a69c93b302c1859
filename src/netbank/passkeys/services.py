"""Passkeys' public face: the names other apps and the tests import, from the modules
that do each thing (``registration``, ``assertion``, ``payment``, ``credentials``,
``common``)."""

from __future__ import annotations

from netbank.passkeys.assertion import (
    OPTIONS_PER_IP_PER_MINUTE,
    PasskeyOutcome,
    authenticate,
    authentication_options,
    login_options,
    login_options_allowed,
    throttled_message,
)
from netbank.passkeys.common import (
    CHALLENGE_SECONDS,
    CONFIRM_PREFIX,
    MAX_PASSKEYS,
    MAX_RESPONSE_CHARS,
    TIMEOUT_MS,
    PasskeyError,
    b64url,
    b64url_decode,
    confirm_challenge,
    validate_name,
)
from netbank.passkeys.credentials import (
    challenges_purge,
    is_last,
    passkey_login_gate,
    passkey_required_for,
    passkeys_of,
    remove,
    rename,
    revoke,
)
from netbank.passkeys.payment import (
    PaymentDisplay,
)
from netbank.passkeys.registration import (
    passkey_user,
    register,
    registration_allowed,
    registration_options,
)

__all__ = [
    "CHALLENGE_SECONDS",
    "CONFIRM_PREFIX",
    "MAX_PASSKEYS",
    "MAX_RESPONSE_CHARS",
    "OPTIONS_PER_IP_PER_MINUTE",
    "TIMEOUT_MS",
    "PasskeyError",
    "PasskeyOutcome",
    "PaymentDisplay",
    "authenticate",
    "authentication_options",
    "b64url",
    "b64url_decode",
    "challenges_purge",
    "confirm_challenge",
    "is_last",
    "login_options",
    "login_options_allowed",
    "passkey_login_gate",
    "passkey_required_for",
    "passkey_user",
    "passkeys_of",
    "register",
    "registration_allowed",
    "registration_options",
    "remove",
    "rename",
    "revoke",
    "throttled_message",
    "validate_name",
]
