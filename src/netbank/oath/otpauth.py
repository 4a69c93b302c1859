"""``otpauth://`` URIs in Google's Key Uri Format, the QR-code text authenticator apps read.

    otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30

Building always writes every parameter explicitly, so an app never has to guess a default.
Parsing is strict about what changes the codes (secret, algorithm, digits, period, counter)
and about the label, and ignores parameters it does not know (``image`` and the like).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Final, Literal, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from netbank.oath.errors import OathError
from netbank.oath.hotp import (
    Algorithm,
    check_counter,
    check_digits,
    check_key,
    normalize_algorithm,
)

OtpType = Literal["totp", "hotp"]
SCHEME: Final = "otpauth"
DEFAULT_PERIOD: Final = 30
MAX_URI_LENGTH: Final = 4096  # far above any real key URI; bounds work on hostile input

_B32_ALPHABET = re.compile(r"[A-Z2-7]*")
# Lengths (mod 8) that a base32 text without padding can have: 8 bits per 5 characters.
_B32_VALID_REMAINDERS: Final = frozenset({0, 2, 4, 5, 7})
_INT = re.compile(r"-?[0-9]+")


def b32encode(data: bytes) -> str:
    """Base32 (RFC 4648) upper case without ``=`` padding, as authenticator apps expect."""
    return base64.b32encode(data).decode("ascii").rstrip("=")


def b32decode(text: str) -> bytes:
    """Decode base32 as people type it: any case, spaces anywhere, padding optional.

    Anything else (other characters, an impossible length, stray bits after the last
    byte) is an ``OathError``: a typo must not silently become a different key.
    """
    if not isinstance(text, str):
        raise OathError("base32 text must be a string")
    compact = "".join(text.split()).upper().rstrip("=")
    if not compact:
        raise OathError("base32 text is empty")
    if not compact.isascii() or not _B32_ALPHABET.fullmatch(compact):
        raise OathError("not valid base32: use only the letters A–Z and digits 2–7")
    if len(compact) % 8 not in _B32_VALID_REMAINDERS:
        raise OathError(f"not valid base32: {len(compact)} characters cannot encode whole bytes")
    padded = compact + "=" * (-len(compact) % 8)
    try:
        data = base64.b32decode(padded)
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - excluded by the checks above
        raise OathError("not valid base32") from exc
    if b32encode(data) != compact:
        raise OathError("not valid base32: the last character carries stray bits")
    return data


def _check_label_part(name: str, value: str) -> None:
    if not value:
        raise OathError(f"{name} must not be empty")
    if ":" in value:
        raise OathError(f"{name} must not contain a colon (it separates issuer and account)")
    if value != value.strip():
        raise OathError(f"{name} must not start or end with spaces")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise OathError(f"{name} must not contain control characters")


@dataclass(frozen=True, kw_only=True)
class OtpAuthUri:
    """One key URI. ``secret`` is the raw key; it is kept out of ``repr`` so logs never hold it."""

    type: OtpType = "totp"
    account: str
    secret: bytes = field(repr=False)
    issuer: str | None = None
    algorithm: Algorithm = "SHA1"
    digits: int = 6
    period: int = DEFAULT_PERIOD  # TOTP only
    counter: int = 0  # HOTP only: the next counter value

    def __post_init__(self) -> None:
        if self.type not in ("totp", "hotp"):
            raise OathError(f"type must be totp or hotp; got {self.type!r}")
        _check_label_part("account name", self.account)
        if self.issuer is not None:
            _check_label_part("issuer", self.issuer)
        check_key(self.secret)
        if normalize_algorithm(self.algorithm) != self.algorithm:
            raise OathError(
                f"algorithm must be written SHA1, SHA256 or SHA512; got {self.algorithm!r}"
            )
        check_digits(self.digits)
        if isinstance(self.period, bool) or not isinstance(self.period, int) or self.period <= 0:
            raise OathError(
                f"period must be a positive whole number of seconds; got {self.period!r}"
            )
        check_counter(self.counter)
        if self.type == "totp" and self.counter != 0:
            raise OathError("counter applies only to hotp URIs")
        if self.type == "hotp" and self.period != DEFAULT_PERIOD:
            raise OathError("period applies only to totp URIs")

    @property
    def label(self) -> str:
        """``issuer:account`` as an app shows it (unencoded)."""
        return f"{self.issuer}:{self.account}" if self.issuer else self.account


def build_uri(uri: OtpAuthUri) -> str:
    """The ``otpauth://`` text for ``uri`` (the content of the QR code)."""
    label = quote(uri.account, safe="")
    if uri.issuer is not None:
        label = f"{quote(uri.issuer, safe='')}:{label}"
    params = [("secret", b32encode(uri.secret))]
    if uri.issuer is not None:
        params.append(("issuer", uri.issuer))
    params += [("algorithm", uri.algorithm), ("digits", str(uri.digits))]
    if uri.type == "totp":
        params.append(("period", str(uri.period)))
    else:
        params.append(("counter", str(uri.counter)))
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
    return f"{SCHEME}://{uri.type}/{label}?{query}"


def _int_param(params: dict[str, str], name: str, default: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        if default is None:
            raise OathError(f"the {name} parameter is missing")
        return default
    if not _INT.fullmatch(raw):
        raise OathError(f"{name} must be a whole number; got {raw!r}")
    return int(raw)


def parse_uri(text: str) -> OtpAuthUri:
    """Parse an ``otpauth://`` URI (from a QR code or typed). Malformed → ``OathError``."""
    if not isinstance(text, str):
        raise OathError("the URI must be text")
    text = text.strip()
    if len(text) > MAX_URI_LENGTH:
        raise OathError(f"the URI is longer than {MAX_URI_LENGTH} characters")
    if not text.isascii() or any(ch.isspace() or ord(ch) < 0x20 for ch in text):
        raise OathError("the URI must be percent-encoded ASCII without spaces")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise OathError(f"not a URI: {exc}") from None
    if parts.scheme != SCHEME:  # urlsplit lower-cases the scheme
        raise OathError(f"the URI scheme must be otpauth://; got {parts.scheme or 'none'!r}")
    otp_type = parts.netloc.lower()
    if otp_type not in ("totp", "hotp"):
        raise OathError(f"the OTP type must be totp or hotp; got {parts.netloc!r}")

    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise OathError("the parameters are not valid percent-encoded UTF-8") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in params:
            raise OathError(f"the {key} parameter appears more than once")
        params[key] = value

    raw_label = parts.path.removeprefix("/")
    if not raw_label:
        raise OathError("the URI has no label (account name)")
    try:
        label = unquote(raw_label, errors="strict")
    except UnicodeDecodeError:
        raise OathError("the label is not valid percent-encoded UTF-8") from None
    label_issuer: str | None = None
    account = label
    if ":" in label:
        label_issuer, account = label.split(":", 1)
        account = account.lstrip(" ")  # the format allows spaces after the colon
    param_issuer = params.get("issuer")
    if label_issuer is not None and param_issuer is not None and label_issuer != param_issuer:
        raise OathError(
            f"the label's issuer {label_issuer!r} differs from the issuer parameter {param_issuer!r}"
        )
    issuer = param_issuer if param_issuer is not None else label_issuer

    if "secret" not in params:
        raise OathError("the secret parameter is missing")
    secret = b32decode(params["secret"])

    digits = _int_param(params, "digits", 6)
    if otp_type == "hotp":
        counter = _int_param(params, "counter", None)
        if counter < 0:
            raise OathError("counter must not be negative")
        period = DEFAULT_PERIOD
    else:
        counter = 0
        period = _int_param(params, "period", DEFAULT_PERIOD)
    return OtpAuthUri(
        type=cast(OtpType, otp_type),
        account=account,
        issuer=issuer,
        secret=secret,
        algorithm=normalize_algorithm(params.get("algorithm", "SHA1")),
        digits=digits,
        period=period,
        counter=counter,
    )
