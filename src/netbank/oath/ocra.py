"""OCRA, the OATH challenge-response algorithm (RFC 6287).

A suite such as ``OCRA-1:HOTP-SHA256-8:QH40-T1M`` names everything that goes into one
response::

    OCRASuite   = Algorithm ":" CryptoFunction ":" DataInput
    Algorithm   = "OCRA-1"
    CryptoFunction = "HOTP-" ("SHA1" | "SHA256" | "SHA512") "-" digits   (digits 4–10)
    DataInput   = ["C-"] "Q" ("A" | "N" | "H") nn ["-P" hash] ["-S" nnn] ["-T" n ("S"|"M"|"H")]

and the response is ``truncate(HMAC(key, suite ‖ 0x00 ‖ C ‖ Q ‖ P ‖ S ‖ T))``. In
signature mode the challenge (Q) carries the data being signed: the bank puts the payee
and amount into it, so a code is only good for that one transfer.

Following RFC 6287 and its reference code exactly:

* C is an 8-byte big-endian counter; T an 8-byte count of time steps since the epoch.
* Q is padded with zero bytes to 128 bytes. A numeric challenge (QN) is read as one
  decimal number, so ``"0012"`` and ``"12"`` give the same response; a signature scheme
  that needs leading zeros must use fixed-length numbers or QA/QH. A hex challenge with an
  odd number of digits is padded with a ``0`` digit on the right, as the reference does.
* ``nn`` in ``Qxnn`` is the challenge length the suite advertises. It is not an upper
  bound here: mutual challenge-response concatenates two challenges (RFC 6287 section
  7.3, appendix C.2), so only the 128-byte field bounds the challenge.
* P is the hash of a PIN or password; S is session information of exactly ``nnn`` bytes.
* Truncation to 0 digits (the full HMAC) is refused: nothing here can display it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from typing import Final, Literal, cast

from netbank.digits import is_ascii_digits
from netbank.oath.errors import OathError
from netbank.oath.hotp import (
    MAX_COUNTER,
    Algorithm,
    check_counter,
    check_key,
    dynamic_truncate,
)

QuestionFormat = Literal["A", "N", "H"]

QUESTION_BYTES: Final = 128
MIN_QUESTION_CHARS: Final = 4  # the smallest nn RFC 6287 allows
MIN_DIGITS: Final = 4
MAX_DIGITS: Final = 10
MAX_TIMESTAMP_WINDOW: Final = 10

_HASHLIB: Final[dict[str, str]] = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
_UNIT_SECONDS: Final = {"S": 1, "M": 60, "H": 3600}
_UNIT_MAX: Final = {"S": 59, "M": 59, "H": 48}

_CRYPTO_FUNCTION = re.compile(r"HOTP-(SHA1|SHA256|SHA512)-([0-9]{1,2})")
_QUESTION = re.compile(r"Q([ANH])([0-9]{2})")
_PASSWORD = re.compile(r"P(SHA1|SHA256|SHA512)")
_SESSION = re.compile(r"S([0-9]{3})")
_TIMESTAMP = re.compile(r"T([0-9]{1,2})([SMH])")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_DECIMAL = re.compile(r"[0-9]+")
_ALPHANUMERIC = re.compile(r"[0-9A-Za-z]+")


@dataclass(frozen=True)
class OcraSuite:
    """A parsed suite. ``text`` is what goes into the HMAC, byte for byte."""

    text: str
    algorithm: Algorithm
    digits: int
    counter: bool
    question_format: QuestionFormat
    question_length: int
    password_algorithm: Algorithm | None
    session_length: int | None
    time_step: int | None  # seconds per timestamp step

    @property
    def password_hash_length(self) -> int | None:
        if self.password_algorithm is None:
            return None
        return hashlib.new(_HASHLIB[self.password_algorithm]).digest_size


def parse_suite(text: str) -> OcraSuite:
    """Parse an OCRA suite string; anything RFC 6287 does not define is an ``OathError``."""
    if not isinstance(text, str) or not text.isascii():
        raise OathError("an OCRA suite must be ASCII text")
    parts = text.split(":")
    if len(parts) != 3:
        raise OathError(
            f"OCRA suite {text!r} must have three parts: OCRA-1:HOTP-<hash>-<digits>:<inputs>"
        )
    version, crypto_function, data_input = parts
    if version != "OCRA-1":
        raise OathError(f"unsupported OCRA version {version!r}; only OCRA-1 exists")

    cf = _CRYPTO_FUNCTION.fullmatch(crypto_function)
    if cf is None:
        raise OathError(
            f"crypto function {crypto_function!r} must be HOTP-SHA1, HOTP-SHA256 or "
            "HOTP-SHA512 followed by -<digits>"
        )
    digits = int(cf.group(2))
    if cf.group(2) != str(digits):
        raise OathError(f"write the digits without a leading zero; got {cf.group(2)!r}")
    if digits == 0:
        raise OathError("truncation 0 (the full HMAC) is not supported; use 4 to 10 digits")
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise OathError(f"an OCRA response has {MIN_DIGITS} to {MAX_DIGITS} digits; got {digits}")

    fields = data_input.split("-")
    counter = False
    if fields and fields[0] == "C":
        counter = True
        fields.pop(0)
    if not fields:
        raise OathError("the data input needs a challenge question Q (e.g. QN08)")
    question = _QUESTION.fullmatch(fields.pop(0))
    if question is None:
        raise OathError(
            "the data input must be [C-]Q<A|N|H><nn>[-P<hash>][-S<nnn>][-T<n><S|M|H>] in that order"
        )
    question_length = int(question.group(2))
    if not MIN_QUESTION_CHARS <= question_length <= 64:
        raise OathError(f"the challenge length must be 04 to 64; got {question.group(2)}")

    password_algorithm: Algorithm | None = None
    session_length: int | None = None
    time_step: int | None = None
    if fields and (password := _PASSWORD.fullmatch(fields[0])):
        password_algorithm = cast(Algorithm, password.group(1))
        fields.pop(0)
    if fields and (session := _SESSION.fullmatch(fields[0])):
        session_length = int(session.group(1))
        if session_length == 0:
            raise OathError("session information length S000 is empty; leave S out instead")
        fields.pop(0)
    if fields and (timestamp := _TIMESTAMP.fullmatch(fields[0])):
        amount, unit = int(timestamp.group(1)), timestamp.group(2)
        if not 1 <= amount <= _UNIT_MAX[unit]:
            raise OathError(f"time step T{timestamp.group(1)}{unit}: use 1–{_UNIT_MAX[unit]}{unit}")
        time_step = amount * _UNIT_SECONDS[unit]
        fields.pop(0)
    if fields:
        raise OathError(
            f"unexpected data input {fields[0]!r}: the order is [C-]Q..[-P..][-S..][-T..], "
            "each at most once"
        )
    return OcraSuite(
        text=text,
        algorithm=cast(Algorithm, cf.group(1)),
        digits=digits,
        counter=counter,
        question_format=cast(QuestionFormat, question.group(1)),
        question_length=question_length,
        password_algorithm=password_algorithm,
        session_length=session_length,
        time_step=time_step,
    )


def _suite(suite: str | OcraSuite) -> OcraSuite:
    return suite if isinstance(suite, OcraSuite) else parse_suite(suite)


def encode_question(suite: str | OcraSuite, question: str) -> bytes:
    """The 128-byte Q field for ``question`` under the suite's question format."""
    s = _suite(suite)
    if not isinstance(question, str) or not question.isascii():
        raise OathError("the challenge question must be ASCII text")
    if len(question) < MIN_QUESTION_CHARS:
        raise OathError(
            f"the challenge question must have at least {MIN_QUESTION_CHARS} characters"
        )
    if len(question) > 2 * QUESTION_BYTES + 64:
        # Checked before int() so a huge numeric string costs nothing to refuse.
        raise OathError(f"the challenge question does not fit in {QUESTION_BYTES} bytes")
    if s.question_format == "N":
        if not _DECIMAL.fullmatch(question):
            raise OathError("a numeric (QN) challenge may contain only the digits 0–9")
        hex_digits = format(int(question), "X")
    elif s.question_format == "H":
        if not _HEX.fullmatch(question):
            raise OathError("a hexadecimal (QH) challenge may contain only 0–9 and A–F")
        hex_digits = question
    else:
        if not _ALPHANUMERIC.fullmatch(question):
            raise OathError("an alphanumeric (QA) challenge may contain only A–Z, a–z and 0–9")
        hex_digits = question.encode("ascii").hex()
    if len(hex_digits) > 2 * QUESTION_BYTES:
        raise OathError(f"the challenge question does not fit in {QUESTION_BYTES} bytes")
    # Right-pad with hex zeros, as the RFC's reference implementation does.
    return bytes.fromhex(hex_digits.ljust(2 * QUESTION_BYTES, "0"))


def _check_uint64(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OathError(f"{name} must be an integer")
    if not 0 <= value <= MAX_COUNTER:
        raise OathError(f"{name} must be between 0 and 2**64 - 1")


def data_input(
    suite: str | OcraSuite,
    *,
    question: str,
    counter: int | None = None,
    password_hash: bytes | None = None,
    session_info: bytes | None = None,
    timestamp_steps: int | None = None,
) -> bytes:
    """The exact message OCRA signs: suite ‖ 0x00 ‖ C ‖ Q ‖ P ‖ S ‖ T.

    Each input must be given exactly when the suite names it; a mismatch is an error
    rather than a silently different response.
    """
    s = _suite(suite)
    parts = [s.text.encode("ascii"), b"\x00"]
    if s.counter:
        if counter is None:
            raise OathError(f"suite {s.text} needs a counter (C)")
        check_counter(counter)
        parts.append(counter.to_bytes(8, "big"))
    elif counter is not None:
        raise OathError(f"suite {s.text} has no counter (C); do not pass one")
    parts.append(encode_question(s, question))
    if s.password_algorithm is not None:
        if password_hash is None:
            raise OathError(f"suite {s.text} needs a password hash (P{s.password_algorithm})")
        if (
            not isinstance(password_hash, bytes | bytearray)
            or len(password_hash) != s.password_hash_length
        ):
            raise OathError(
                f"the password hash must be the {s.password_hash_length}-byte "
                f"{s.password_algorithm} digest"
            )
        parts.append(bytes(password_hash))
    elif password_hash is not None:
        raise OathError(f"suite {s.text} has no password (P); do not pass one")
    if s.session_length is not None:
        if session_info is None:
            raise OathError(f"suite {s.text} needs {s.session_length} bytes of session information")
        if not isinstance(session_info, bytes | bytearray) or len(session_info) != s.session_length:
            raise OathError(f"session information must be exactly {s.session_length} bytes")
        parts.append(bytes(session_info))
    elif session_info is not None:
        raise OathError(f"suite {s.text} has no session information (S); do not pass any")
    if s.time_step is not None:
        if timestamp_steps is None:
            raise OathError(f"suite {s.text} needs a timestamp (T)")
        _check_uint64("the timestamp", timestamp_steps)
        parts.append(timestamp_steps.to_bytes(8, "big"))
    elif timestamp_steps is not None:
        raise OathError(f"suite {s.text} has no timestamp (T); do not pass one")
    return b"".join(parts)


def ocra(
    suite: str | OcraSuite,
    key: bytes,
    *,
    counter: int | None = None,
    question: str,
    password_hash: bytes | None = None,
    session_info: bytes | None = None,
    timestamp_steps: int | None = None,
) -> str:
    """The OCRA response (a zero-padded string of the suite's digits)."""
    s = _suite(suite)
    check_key(key)
    message = data_input(
        s,
        question=question,
        counter=counter,
        password_hash=password_hash,
        session_info=session_info,
        timestamp_steps=timestamp_steps,
    )
    mac = hmac.new(bytes(key), message, _HASHLIB[s.algorithm]).digest()
    return str(dynamic_truncate(mac) % 10**s.digits).zfill(s.digits)


def _matched_step(
    s: OcraSuite,
    key: bytes,
    response: str,
    *,
    counter: int | None,
    question: str,
    password_hash: bytes | None,
    session_info: bytes | None,
    timestamp_steps: int | None,
    timestamp_window: int,
) -> int | None:
    """The timestamp step that ``response`` matches (0 for suites without T), or None."""
    if isinstance(timestamp_window, bool) or not isinstance(timestamp_window, int):
        raise OathError("timestamp_window must be an integer")
    if not 0 <= timestamp_window <= MAX_TIMESTAMP_WINDOW:
        raise OathError(f"timestamp_window must be 0 to {MAX_TIMESTAMP_WINDOW} steps")
    steps: list[int | None] = [None]
    if s.time_step is None:
        if timestamp_window:
            raise OathError(f"suite {s.text} has no timestamp (T); a window makes no sense")
    else:
        if timestamp_steps is None:
            raise OathError(f"suite {s.text} needs a timestamp (T)")
        _check_uint64("the timestamp", timestamp_steps)
        low = max(0, timestamp_steps - timestamp_window)
        high = min(MAX_COUNTER, timestamp_steps + timestamp_window)
        steps = list(range(low, high + 1))
    well_formed = is_ascii_digits(response, length=s.digits)
    expected = response.encode("ascii") if well_formed else b""
    matched: int | None = None
    # Every candidate is computed and compared in constant time, whichever matches.
    for step in steps:
        candidate = ocra(
            s,
            key,
            counter=counter,
            question=question,
            password_hash=password_hash,
            session_info=session_info,
            timestamp_steps=step,
        )
        if hmac.compare_digest(candidate.encode("ascii"), expected) and matched is None:
            matched = 0 if step is None else step
    return matched if well_formed else None


def ocra_verify(
    suite: str | OcraSuite,
    key: bytes,
    response: str,
    *,
    counter: int | None = None,
    question: str,
    password_hash: bytes | None = None,
    session_info: bytes | None = None,
    timestamp_steps: int | None = None,
    timestamp_window: int = 0,
) -> bool:
    """True when ``response`` is the OCRA response for these inputs.

    For a T suite, any step in ``timestamp_steps ± timestamp_window`` is accepted.
    Single use (never accepting one challenge twice) is the caller's job: it owns the
    challenge record.
    """
    return (
        _matched_step(
            _suite(suite),
            key,
            response,
            counter=counter,
            question=question,
            password_hash=password_hash,
            session_info=session_info,
            timestamp_steps=timestamp_steps,
            timestamp_window=timestamp_window,
        )
        is not None
    )


def ocra_verify_timestamp(
    suite: str | OcraSuite,
    key: bytes,
    response: str,
    *,
    timestamp_steps: int,
    timestamp_window: int = 0,
    counter: int | None = None,
    question: str,
    password_hash: bytes | None = None,
    session_info: bytes | None = None,
) -> int | None:
    """For a T suite: the timestamp step within ``± timestamp_window`` that ``response``
    matches, or None (so the caller can learn the device's clock offset)."""
    s = _suite(suite)
    if s.time_step is None:
        raise OathError(f"suite {s.text} has no timestamp (T)")
    return _matched_step(
        s,
        key,
        response,
        counter=counter,
        question=question,
        password_hash=password_hash,
        session_info=session_info,
        timestamp_steps=timestamp_steps,
        timestamp_window=timestamp_window,
    )


def ocra_password_hash(suite: str | OcraSuite, password: str) -> bytes:
    """The P input for ``password`` (its UTF-8 bytes hashed with the suite's P hash)."""
    s = _suite(suite)
    if s.password_algorithm is None:
        raise OathError(f"suite {s.text} has no password (P)")
    return hashlib.new(_HASHLIB[s.password_algorithm], password.encode("utf-8")).digest()


def ocra_timestamp(suite: str | OcraSuite, unix_time: float) -> int:
    """The T input at ``unix_time``: whole time steps of the suite's size since the epoch."""
    s = _suite(suite)
    if s.time_step is None:
        raise OathError(f"suite {s.text} has no timestamp (T)")
    if isinstance(unix_time, float) and not math.isfinite(unix_time):
        raise OathError("the time must be a finite number")
    if unix_time < 0:
        raise OathError("the time must not be before 1970")
    return int(unix_time // s.time_step)
