"""What the passkey modules share: limits, the refusal (``PasskeyError``), WebAuthn's
base64url, the challenges (a confirmation's bound to its operation:
``SHA-256("netbank-passkey-confirm/1\\0" ‖ random 32 ‖ SHA-256(operation))``), a
passkey's name rule and the notice mail."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from webauthn import (
    options_to_json,
)
from webauthn.helpers import (
    parse_client_data_json,
)
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
)

from netbank import clock
from netbank.customers.models import Customer
from netbank.customers.validators import has_control_characters
from netbank.notifications.services import notice_enqueue
from netbank.passkeys.models import NAME_MAX, Passkey, PasskeyChallenge

CHALLENGE_SECONDS = 300
# What the browser is told to wait (a hint); the server's own limit is CHALLENGE_SECONDS.
TIMEOUT_MS = 120_000
CONFIRM_PREFIX = b"netbank-passkey-confirm/1\0"
MAX_PASSKEYS = 10
# A response larger than this is not a WebAuthn response (the view's JSON reader also
# caps the body).
MAX_RESPONSE_CHARS = 16_384


# What py_webauthn and our own parsing raise for an answer that is no valid WebAuthn
# JSON; with the library's own refusal, what a refused registration or assertion raises.
_MALFORMED = (ValueError, InvalidJSONStructure, TypeError, KeyError)
_INVALID_REGISTRATION = (InvalidRegistrationResponse, *_MALFORMED)
_INVALID_ASSERTION = (InvalidAuthenticationResponse, *_MALFORMED)


class PasskeyError(ValueError):
    """A refused request (registration, rename, removal) with the message to show."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- helpers --------------------------------------------------------------------------


def b64url_decode(value: object) -> bytes:
    """base64url without padding, as WebAuthn's JSON carries bytes; ValueError if not."""
    if not isinstance(value, str) or len(value) > MAX_RESPONSE_CHARS:
        raise ValueError("not a base64url string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sent_challenge(response: dict[str, Any]) -> bytes:
    """The challenge the authenticator signed, read from the response's clientDataJSON."""
    inner = response.get("response")
    if not isinstance(inner, dict):
        raise ValueError("no response")
    client_data = parse_client_data_json(b64url_decode(inner.get("clientDataJSON")))
    return bytes(client_data.challenge)


def _credential_id(response: dict[str, Any]) -> bytes:
    raw = b64url_decode(response.get("rawId", response.get("id")))
    if not raw or len(raw) > 1023:
        raise ValueError("bad credential id")
    return raw


def confirm_challenge(random_part: bytes, operation: bytes) -> bytes:
    """The challenge a confirmation's assertion signs: bound to the operation."""
    return hashlib.sha256(
        CONFIRM_PREFIX + random_part + hashlib.sha256(operation).digest()
    ).digest()


def _new_challenge(
    *,
    purpose: str,
    customer: Customer | None,
    operation: bytes | None = None,
) -> PasskeyChallenge:
    now = clock.now()
    random_part = secrets.token_bytes(32)
    digest = None
    sent = random_part
    if operation is not None:
        digest = hashlib.sha256(operation).digest()
        sent = confirm_challenge(random_part, operation)
    return PasskeyChallenge.objects.create(
        challenge=random_part,
        sent=sent,
        purpose=purpose,
        customer=customer,
        operation_digest=digest,
        created_at=now,
        expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
    )


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in passkey.transports or []:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue  # a transport this library does not know: the browser finds it anyway
    return PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id), transports=transports)


def _as_dict(options: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def validate_name(raw: object) -> str:
    """A passkey's name: 1–30 characters, no control or invisible characters."""
    if not isinstance(raw, str) or not raw.strip():
        raise PasskeyError(_("パスキーの名前を入力してください。"), code="name")
    name = raw.strip()
    if len(name) > NAME_MAX:
        raise PasskeyError(
            _("パスキーの名前は%(max)s文字以内で入力してください。") % {"max": NAME_MAX},
            code="name",
        )
    if has_control_characters(name):
        raise PasskeyError(_("パスキーの名前に使用できない文字が含まれています。"), code="name")
    return name


def _notice(
    *, customer: Customer, subject: str, what: str, name: str, ip: str | None, purpose: str
) -> None:
    """The notice mail to the registered address, with the helpdesk's emergency number
    (the customers' change notice, in Japanese)."""
    from django.utils import translation

    with translation.override("ja"):
        subject_text = _(subject)
        what_text = _(what) % {"name": name}
    notice_enqueue(
        to=customer.email,
        subject=subject_text,
        template="customers/mail/change_notice.txt",
        context={"customer": customer, "what": what_text, "ip": ip, "at": clock.now()},
        purpose=purpose,
    )
