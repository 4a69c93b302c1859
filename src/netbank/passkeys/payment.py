"""Secure Payment Confirmation: what the browser's dialog is asked to show
(``PaymentDisplay``) and the check of its ``payment.get`` assertion, which py_webauthn
does not verify: ``_verify_payment_assertion`` uses py_webauthn's own parsers and
signature check, and also that the signed ``payment`` member says what the bank asked
the browser to show (payee, instrument, total)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from webauthn.helpers import (
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_backup_flags,
    parse_client_data_json,
    verify_signature,
)
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
)
from webauthn.helpers.structs import (
    PublicKeyCredentialType,
)

from netbank.passkeys import conf
from netbank.passkeys.common import (
    _MALFORMED,
    b64url_decode,
)


@dataclass(frozen=True)
class PaymentDisplay:
    """What the browser's Secure Payment Confirmation dialog is asked to show for a
    payment, and what a ``payment.get`` assertion must then carry, signed: the payee's
    name, the instrument (the bank's words for payee and account) and the total in yen.
    ``icon`` is the bank's icon (a same-origin static URL)."""

    payee_name: str
    display_name: str
    amount_jpy: int
    icon: str = ""
    # The label of the total in the dialog (not part of the signed data).
    total_label: str = ""

    @property
    def total_value(self) -> str:
        return str(int(self.amount_jpy))


class _PaymentMismatchError(Exception):
    """A genuine payment.get whose signed payment data is not what the bank asked the
    browser to show (another payee, instrument or total)."""


@dataclass(frozen=True)
class _VerifiedPayment:
    new_sign_count: int
    credential_backed_up: bool
    user_verified: bool


def _client_data_type(response: dict[str, Any]) -> str:
    inner = response.get("response")
    if not isinstance(inner, dict):
        return ""
    try:
        return str(parse_client_data_json(b64url_decode(inner.get("clientDataJSON"))).type)
    except _MALFORMED:
        return ""


def _verify_payment_assertion(
    *,
    response: dict[str, Any],
    expected_challenge: bytes,
    public_key: bytes,
    payment: PaymentDisplay,
) -> _VerifiedPayment:
    """Verify SPC's ``payment.get`` assertion as py_webauthn verifies ``webauthn.get``
    (its parsers and signature check; the same challenge, origins, rp id hash, UP and
    UV), then its ``payment`` member against what the bank asked the browser to show:
    the rp id and top origin are the bank's, the payee name, the instrument's display
    name and the total (JPY, the amount executed) are equal, and no payee origin was
    shown (the bank names the payee, a person or company, never a website). The sign
    counter is the caller's, as for the other kind."""
    credential = parse_authentication_credential_json(response)
    if bytes_to_base64url(credential.raw_id) != credential.id:
        raise InvalidAuthenticationResponse("id and raw_id were not equivalent")
    if credential.type != PublicKeyCredentialType.PUBLIC_KEY:
        raise InvalidAuthenticationResponse("not a public-key credential")
    client_bytes = bytes(credential.response.client_data_json)
    auth_bytes = bytes(credential.response.authenticator_data)
    client_data = parse_client_data_json(client_bytes)
    if client_data.type != "payment.get":
        raise InvalidAuthenticationResponse("not a payment.get")
    if not hmac.compare_digest(bytes(client_data.challenge), expected_challenge):
        raise InvalidAuthenticationResponse("challenge")
    origins = conf.origins()
    if client_data.origin not in origins:
        raise InvalidAuthenticationResponse("origin")
    raw = json.loads(client_bytes)
    if raw.get("crossOrigin") is True:
        raise InvalidAuthenticationResponse("cross-origin")
    auth_data = parse_authenticator_data(auth_bytes)
    if not hmac.compare_digest(
        auth_data.rp_id_hash, hashlib.sha256(conf.rp_id().encode("utf-8")).digest()
    ):
        raise InvalidAuthenticationResponse("rp id hash")
    if not auth_data.flags.up or not auth_data.flags.uv:
        raise InvalidAuthenticationResponse("user presence and verification required")
    try:
        decoded = decode_credential_public_key(public_key)
        verify_signature(
            public_key=decoded_public_key_to_cryptography(decoded),
            signature_alg=decoded.alg,
            signature=bytes(credential.response.signature),
            data=auth_bytes + hashlib.sha256(client_bytes).digest(),
        )
    except InvalidSignature:
        raise InvalidAuthenticationResponse("signature") from None
    # Signed by the passkey: now what the browser showed.
    shown = raw.get("payment")
    if not isinstance(shown, dict):
        raise _PaymentMismatchError("no payment data")
    instrument = shown.get("instrument")
    checks = (
        shown.get("rpId") == conf.rp_id(),
        shown.get("topOrigin") in origins,
        shown.get("payeeName") == payment.payee_name,
        shown.get("payeeOrigin") is None,
        shown.get("total") == {"currency": "JPY", "value": payment.total_value},
        isinstance(instrument, dict) and instrument.get("displayName") == payment.display_name,
    )
    if not all(checks):
        raise _PaymentMismatchError("the payment shown is not the payment executed")
    flags = parse_backup_flags(auth_data.flags)
    return _VerifiedPayment(
        new_sign_count=int(auth_data.sign_count),
        credential_backed_up=bool(flags.credential_backed_up),
        user_verified=bool(auth_data.flags.uv),
    )
