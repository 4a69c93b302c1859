"""A software FIDO2 authenticator for the tests: what a phone's or a PC's passkey does,
in a few lines, so the server's checks can be tried with answers a browser would refuse to
make (another origin, no user verification, a counter that went back).

It is test support only: the product verifies with py_webauthn, and the browser tests use
Chromium's own virtual authenticator. Also signs with a key taken from that virtual
authenticator (``from_private_key``), to play a phishing site that got hold of an
assertion made for its own origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class SoftAuthenticator:
    rp_id: str
    origin: str
    user_verified: bool = True
    synced: bool = False
    counts: bool = True
    sign_count: int = 0
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    user_handle: bytes = b""

    @classmethod
    def from_private_key(
        cls, *, pkcs8_b64: str, credential_id_b64: str, rp_id: str, origin: str, **kw: Any
    ) -> SoftAuthenticator:
        """A copy of a credential held by Chromium's virtual authenticator (CDP
        ``WebAuthn.getCredentials`` gives its PKCS#8 key, base64)."""
        key = serialization.load_der_private_key(base64.b64decode(pkcs8_b64), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(
            rp_id=rp_id,
            origin=origin,
            key=key,
            credential_id=base64.b64decode(credential_id_b64),
            **kw,
        )

    def _flags(self, *extra: int) -> int:
        flags = UP | (UV if self.user_verified else 0)
        if self.synced:
            flags |= BE | BS
        for bit in extra:
            flags |= bit
        return flags

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(
        self,
        kind: str,
        challenge: bytes,
        origin: str | None,
        payment: dict[str, Any] | None = None,
    ) -> bytes:
        data: dict[str, Any] = {
            "type": kind,
            "challenge": b64url(challenge),
            "origin": origin or self.origin,
            "crossOrigin": False,
        }
        if payment is not None:
            data["payment"] = payment
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    def create(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """``navigator.credentials.create`` with these options (JSON), attestation none."""
        self.user_handle = b64url_decode(options["user"]["id"])
        client_data = self._client_data(
            "webauthn.create", b64url_decode(options["challenge"]), origin
        )
        auth_data = (
            hashlib.sha256(options["rp"]["id"].encode()).digest()
            + bytes([self._flags(AT)])
            + struct.pack(">I", self.sign_count)
            + bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def pay(self, options: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """What a browser's SPC dialog returns for the options' ``spc`` part: the
        ``payment.get`` assertion whose client data says what the dialog showed.
        ``changes`` replace members of that ``payment`` data (a browser made to show
        something else)."""
        spc = options["spc"]
        payment: dict[str, Any] = {
            "rpId": options["rpId"],
            "topOrigin": self.origin,
            "payeeName": spc["payeeName"],
            "total": spc["total"],
            "instrument": {
                "displayName": spc["instrument"]["displayName"],
                "icon": self.origin + spc["instrument"]["icon"],
                "iconMustBeShown": True,
            },
        }
        payment.update(changes)
        return self.get(options, kind="payment.get", payment=payment)

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: bytes | None = None,
        kind: str = "webauthn.get",
        payment: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``navigator.credentials.get``: one assertion (the counter moves if it counts).
        With ``kind="payment.get"`` and ``payment``, what a browser's Secure Payment
        Confirmation signs (its client data carries the ``payment`` member)."""
        if self.counts:
            self.sign_count += 1
        client_data = self._client_data(
            kind, challenge or b64url_decode(options["challenge"]), origin, payment
        )
        auth_data = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", self.sign_count)
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle) if self.user_handle else None,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
