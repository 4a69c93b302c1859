"""OATH algorithms: HOTP (RFC 4226), TOTP (RFC 6238), OCRA (RFC 6287) and otpauth URIs.

Pure: no Django, no I/O. The server and the token app both use it. Every malformed
input raises ``OathError`` with a message that names the problem and holds no key material.
"""

from __future__ import annotations

from netbank.oath.errors import OathError
from netbank.oath.hotp import (
    Algorithm,
    generate_key,
    hash_algorithm,
    hotp,
    hotp_verify,
    normalize_algorithm,
)
from netbank.oath.ocra import (
    OcraSuite,
    ocra,
    ocra_password_hash,
    ocra_timestamp,
    ocra_verify,
    ocra_verify_timestamp,
    parse_suite,
)
from netbank.oath.otpauth import OtpAuthUri, b32decode, b32encode, build_uri, parse_uri
from netbank.oath.totp import (
    MAX_DRIFT,
    TotpCheck,
    bound_drift,
    check_steps,
    seconds_remaining,
    time_step,
    totp,
    totp_check,
    totp_verify,
)

__all__ = [
    "MAX_DRIFT",
    "Algorithm",
    "OathError",
    "OcraSuite",
    "OtpAuthUri",
    "TotpCheck",
    "b32decode",
    "b32encode",
    "bound_drift",
    "build_uri",
    "check_steps",
    "generate_key",
    "hash_algorithm",
    "hotp",
    "hotp_verify",
    "normalize_algorithm",
    "ocra",
    "ocra_password_hash",
    "ocra_timestamp",
    "ocra_verify",
    "ocra_verify_timestamp",
    "parse_suite",
    "parse_uri",
    "seconds_remaining",
    "time_step",
    "totp",
    "totp_check",
    "totp_verify",
]
