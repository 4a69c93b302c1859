"""Token activation key agreement (docs/protocols.md, "Activation"), shared by server and app.

Two rounds. The app sends サービスID, ユーザID and a fresh X25519 public key; the bank
answers with its own ephemeral X25519 key, the token parameters and its time, signed
with the bank's long-term Ed25519 key. Both sides then run HKDF-SHA256 over the X25519
secret with the whole transcript as ``info`` and get a confirmation key, the OTP seed and
a transaction-signing key. The app proves the 利用開始パスワード with
HMAC(confirmation key, transcript ‖ password); the bank answers with its own MAC.

Everything here is pure: byte layouts, key derivation and MACs. No Django, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from netbank.digits import is_ascii_digits

PROTOCOL = "netbank-activation/1"

PUBLIC_KEY_BYTES = 32  # X25519 and Ed25519 public keys
TRANSCRIPT_ID_BYTES = 16
SIGNATURE_BYTES = 64
MAC_BYTES = 32
SIGNING_KEY_BYTES = 32
# The OTP seed is as long as the HMAC's output (RFC 4226 R6 asks for at least 128 bits;
# RFC 6238's reference keys match the hash length).
SEED_BYTES = {"SHA1": 20, "SHA256": 32, "SHA512": 64}
DIGITS = (6, 7, 8)
MIN_PERIOD, MAX_PERIOD = 10, 300

# Domain separation: these prefixes make every signature, derived key and MAC of this
# protocol differ from any other use of the same key material.
_SIGNATURE_CONTEXT = PROTOCOL.encode() + b" server-answer\x00"
_HKDF_SALT = PROTOCOL.encode()
_LABEL_CONFIRMATION = b"confirmation-key\x00"
_LABEL_SEED = b"otp-seed\x00"
_LABEL_SIGNING = b"signing-key\x00"
_LABEL_CLIENT_PROOF = b"client-proof\x00"
_LABEL_SERVER_CONFIRMATION = b"server-confirmation\x00"

FIELD_NAMES = (
    "transcript_id",
    "service_id",
    "user_id",
    "app_public_key",
    "server_public_key",
    "algorithm",
    "digits",
    "period",
    "server_time",
    "expires_at",
)

_SERVICE_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_USER_ID_RE = re.compile(r"[0-9]{12}")
_PASSWORD_RE = re.compile(r"[0-9]{4,8}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
# Full-width digits ０-９, which phone keyboards in Japanese mode type, mean the same digits.
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


class ActivationError(ValueError):
    """A malformed activation message or value."""


class SignatureError(ActivationError):
    """The server answer is unsigned or not signed by the bank's key."""


class ConfirmationError(ActivationError):
    """A MAC of the key confirmation does not match."""


# --- encodings -------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 4648 section 5), as every binary field is sent."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: object, *, length: int, field: str) -> bytes:
    """Strictly decode one base64url field of exactly ``length`` bytes."""
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text):
        raise ActivationError(f"{field} must be base64url text")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ActivationError(f"{field} must be base64url text") from exc
    if len(data) != length or b64url_encode(data) != text:
        # The second check refuses non-canonical spellings (stray bits in the last digit).
        raise ActivationError(f"{field} must be {length} bytes")
    return data


def check_service_id(value: object) -> str:
    if not isinstance(value, str) or not _SERVICE_ID_RE.fullmatch(value):
        raise ActivationError("service_id must be 1-32 letters, digits, '-' or '_'")
    return value


def check_user_id(value: object) -> str:
    if not isinstance(value, str) or not _USER_ID_RE.fullmatch(value):
        raise ActivationError("user_id must be 12 digits")
    return value


def activation_password_bytes(password: str) -> bytes:
    """The 利用開始パスワード as the ASCII digits both sides MAC (4-8 digits).

    Full-width digits are read as the same digits, so a phone keyboard in Japanese
    mode gives the same proof as the PC form that registered the password.
    """
    normalised = password.strip().translate(_FULL_WIDTH_DIGITS)
    if not _PASSWORD_RE.fullmatch(normalised):
        raise ActivationError("the activation password is 4 to 8 digits")
    return normalised.encode("ascii")


def _int_field(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActivationError(f"{field} must be an integer from {low} to {high}")
    return value


def _len_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


# --- the transcript ----------------------------------------------------------------------


@dataclass(frozen=True)
class Transcript:
    """Everything both rounds establish; its canonical bytes are signed and fed to HKDF."""

    transcript_id: bytes
    service_id: str
    user_id: str
    app_public_key: bytes
    server_public_key: bytes
    algorithm: str
    digits: int
    period: int
    server_time: int
    expires_at: int

    def __post_init__(self) -> None:
        if len(self.transcript_id) != TRANSCRIPT_ID_BYTES:
            raise ActivationError("transcript_id must be 16 bytes")
        check_service_id(self.service_id)
        check_user_id(self.user_id)
        for name in ("app_public_key", "server_public_key"):
            if len(getattr(self, name)) != PUBLIC_KEY_BYTES:
                raise ActivationError(f"{name} must be 32 bytes")
        if self.algorithm not in SEED_BYTES:
            raise ActivationError("algorithm must be SHA1, SHA256 or SHA512")
        if self.digits not in DIGITS:
            raise ActivationError("digits must be 6, 7 or 8")
        _int_field(self.period, "period", MIN_PERIOD, MAX_PERIOD)
        _int_field(self.server_time, "server_time", 0, 2**40)
        _int_field(self.expires_at, "expires_at", 0, 2**40)

    def _fields(self) -> list[tuple[str, bytes]]:
        return [
            ("transcript_id", self.transcript_id),
            ("service_id", self.service_id.encode()),
            ("user_id", self.user_id.encode()),
            ("app_public_key", self.app_public_key),
            ("server_public_key", self.server_public_key),
            ("algorithm", self.algorithm.encode()),
            ("digits", str(self.digits).encode()),
            ("period", str(self.period).encode()),
            ("server_time", str(self.server_time).encode()),
            ("expires_at", str(self.expires_at).encode()),
        ]

    def encode(self) -> bytes:
        """Canonical bytes: the protocol name, then each field as name and value, each
        length-prefixed (4 bytes, big-endian), in the fixed order of ``FIELD_NAMES``.
        Strings are UTF-8, integers decimal ASCII, keys and ids raw bytes. No two
        different transcripts share an encoding.
        """
        out = [_len_prefixed(PROTOCOL.encode())]
        for name, value in self._fields():
            out.append(_len_prefixed(name.encode()))
            out.append(_len_prefixed(value))
        return b"".join(out)

    @classmethod
    def decode(cls, data: bytes) -> Transcript:
        """The inverse of ``encode``; refuses anything ``encode`` would not produce."""
        items: list[bytes] = []
        pos = 0
        while pos < len(data):
            if pos + 4 > len(data):
                raise ActivationError("truncated transcript")
            size = int.from_bytes(data[pos : pos + 4], "big")
            pos += 4
            if pos + size > len(data):
                raise ActivationError("truncated transcript")
            items.append(data[pos : pos + size])
            pos += size
        if len(items) != 1 + 2 * len(FIELD_NAMES) or items[0] != PROTOCOL.encode():
            raise ActivationError(f"not a {PROTOCOL} transcript")
        values: dict[str, bytes] = {}
        for index, name in enumerate(FIELD_NAMES):
            if items[1 + 2 * index] != name.encode():
                raise ActivationError(f"not a {PROTOCOL} transcript")
            values[name] = items[2 + 2 * index]

        def text(name: str) -> str:
            try:
                return values[name].decode("ascii")
            except UnicodeDecodeError as exc:
                raise ActivationError(f"{name} must be ASCII") from exc

        def number(name: str) -> int:
            raw = text(name)
            if not is_ascii_digits(raw, max_length=20) or str(int(raw)) != raw:
                raise ActivationError(f"{name} must be a decimal integer")
            return int(raw)

        transcript = cls(
            transcript_id=values["transcript_id"],
            service_id=text("service_id"),
            user_id=text("user_id"),
            app_public_key=values["app_public_key"],
            server_public_key=values["server_public_key"],
            algorithm=text("algorithm"),
            digits=number("digits"),
            period=number("period"),
            server_time=number("server_time"),
            expires_at=number("expires_at"),
        )
        if transcript.encode() != data:
            raise ActivationError(f"not a canonical {PROTOCOL} transcript")
        return transcript

    def digest(self) -> bytes:
        return hashlib.sha256(self.encode()).digest()

    def to_json(self, signature: bytes) -> dict[str, object]:
        """The server's round-one answer body."""
        return {
            "protocol": PROTOCOL,
            "transcript_id": b64url_encode(self.transcript_id),
            "service_id": self.service_id,
            "user_id": self.user_id,
            "app_public_key": b64url_encode(self.app_public_key),
            "server_public_key": b64url_encode(self.server_public_key),
            "algorithm": self.algorithm,
            "digits": self.digits,
            "period": self.period,
            "server_time": self.server_time,
            "expires_at": self.expires_at,
            "signature": b64url_encode(signature),
        }

    @classmethod
    def from_json(cls, data: object) -> tuple[Transcript, bytes | None]:
        """Parse a round-one answer strictly; returns the transcript and its signature
        (None when the answer carries none, which the caller must refuse).
        """
        if not isinstance(data, dict):
            raise ActivationError("the answer must be a JSON object")
        if data.get("protocol") != PROTOCOL:
            raise ActivationError(f"the answer is not {PROTOCOL}")
        algorithm = data.get("algorithm")
        if not isinstance(algorithm, str):
            raise ActivationError("algorithm must be text")
        transcript = cls(
            transcript_id=b64url_decode(
                data.get("transcript_id"), length=TRANSCRIPT_ID_BYTES, field="transcript_id"
            ),
            service_id=check_service_id(data.get("service_id")),
            user_id=check_user_id(data.get("user_id")),
            app_public_key=b64url_decode(
                data.get("app_public_key"), length=PUBLIC_KEY_BYTES, field="app_public_key"
            ),
            server_public_key=b64url_decode(
                data.get("server_public_key"), length=PUBLIC_KEY_BYTES, field="server_public_key"
            ),
            algorithm=algorithm,
            digits=_int_field(data.get("digits"), "digits", 6, 8),
            period=_int_field(data.get("period"), "period", MIN_PERIOD, MAX_PERIOD),
            server_time=_int_field(data.get("server_time"), "server_time", 0, 2**40),
            expires_at=_int_field(data.get("expires_at"), "expires_at", 0, 2**40),
        )
        raw_signature = data.get("signature")
        if raw_signature is None or raw_signature == "":
            return transcript, None
        signature = b64url_decode(raw_signature, length=SIGNATURE_BYTES, field="signature")
        return transcript, signature


def new_transcript_id() -> bytes:
    return secrets.token_bytes(TRANSCRIPT_ID_BYTES)


# --- keys ---------------------------------------------------------------------------------


def x25519_generate() -> tuple[X25519PrivateKey, bytes]:
    """A fresh ephemeral key pair; the public half as its 32 raw bytes."""
    private = X25519PrivateKey.generate()
    return private, private.public_key().public_bytes_raw()


def x25519_private_bytes(private: X25519PrivateKey) -> bytes:
    return private.private_bytes_raw()


def x25519_private_from_bytes(data: bytes) -> X25519PrivateKey:
    try:
        return X25519PrivateKey.from_private_bytes(data)
    except ValueError as exc:
        raise ActivationError("an X25519 private key is 32 bytes") from exc


def x25519_shared_secret(private: X25519PrivateKey, peer_public: bytes) -> bytes:
    """The X25519 secret; refuses a peer key of small order (all-zero secret)."""
    try:
        peer = X25519PublicKey.from_public_bytes(peer_public)
        shared = private.exchange(peer)
    except ValueError as exc:
        raise ActivationError("the peer's X25519 public key is not usable") from exc
    if not any(shared):  # OpenSSL already refuses this; belt and braces.
        raise ActivationError("the peer's X25519 public key is not usable")
    return shared


def check_x25519_public_key(public: bytes) -> bytes:
    """Refuse a peer key that is not 32 bytes or of small order (all-zero X25519 secret)."""
    probe = X25519PrivateKey.generate()
    x25519_shared_secret(probe, public)
    return public


def ed25519_public_key(data: bytes | str) -> Ed25519PublicKey:
    """The bank's public key from its 32 raw bytes or their base64url text."""
    raw = (
        b64url_decode(data, length=PUBLIC_KEY_BYTES, field="bank public key")
        if isinstance(data, str)
        else data
    )
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise ActivationError("an Ed25519 public key is 32 bytes") from exc


def ed25519_public_text(key: Ed25519PublicKey) -> str:
    return b64url_encode(key.public_bytes_raw())


def sign_transcript(signing_key: Ed25519PrivateKey, transcript: Transcript) -> bytes:
    return signing_key.sign(_SIGNATURE_CONTEXT + transcript.encode())


def verify_transcript_signature(
    trusted: Ed25519PublicKey | list[Ed25519PublicKey],
    transcript: Transcript,
    signature: bytes | None,
) -> None:
    """Raise SignatureError unless one of the trusted bank keys signed this transcript."""
    if signature is None:
        raise SignatureError("the server answer is not signed")
    keys = trusted if isinstance(trusted, list) else [trusted]
    message = _SIGNATURE_CONTEXT + transcript.encode()
    for key in keys:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return
    raise SignatureError("the server answer is not signed by the bank's key")


# --- derivation and confirmation --------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DerivedKeys:
    confirmation_key: bytes
    seed: bytes
    signing_key: bytes

    def __repr__(self) -> str:  # never print key material
        return "DerivedKeys(<secret>)"

    def token_secret(self) -> bytes:
        """What the bank stores sealed: seed ‖ 32-byte signing key."""
        return self.seed + self.signing_key


def _hkdf(shared: bytes, label: bytes, transcript: bytes, length: int) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=_HKDF_SALT, info=label + transcript
    ).derive(shared)


def derive_keys(shared_secret: bytes, transcript: Transcript) -> DerivedKeys:
    """HKDF-SHA256(salt=protocol name, ikm=X25519 secret, info=label ‖ transcript)."""
    if len(shared_secret) != 32:
        raise ActivationError("the X25519 secret is 32 bytes")
    encoded = transcript.encode()
    return DerivedKeys(
        confirmation_key=_hkdf(shared_secret, _LABEL_CONFIRMATION, encoded, 32),
        seed=_hkdf(shared_secret, _LABEL_SEED, encoded, SEED_BYTES[transcript.algorithm]),
        signing_key=_hkdf(shared_secret, _LABEL_SIGNING, encoded, SIGNING_KEY_BYTES),
    )


def client_proof(confirmation_key: bytes, transcript: Transcript, password: bytes) -> bytes:
    """The app's proof: HMAC-SHA256(K_confirm, "client-proof\\0" ‖ transcript ‖ password)."""
    return hmac.new(
        confirmation_key, _LABEL_CLIENT_PROOF + transcript.encode() + password, hashlib.sha256
    ).digest()


def server_confirmation(confirmation_key: bytes, transcript: Transcript, password: bytes) -> bytes:
    """The bank's answer: HMAC-SHA256(K_confirm, "server-confirmation\\0" ‖ transcript ‖ password)."""
    return hmac.new(
        confirmation_key,
        _LABEL_SERVER_CONFIRMATION + transcript.encode() + password,
        hashlib.sha256,
    ).digest()


def macs_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
