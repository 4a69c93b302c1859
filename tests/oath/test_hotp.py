"""HOTP (RFC 4226): the appendix D vectors, look-ahead verification and bad input."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys

import pytest

from netbank.oath import OathError, generate_key, hotp, hotp_verify
from netbank.oath.hotp import dynamic_truncate, hash_algorithm, normalize_algorithm

from .vectors import RFC4226, RFC4226_KEY


@pytest.mark.parametrize(("counter", "mac_hex", "truncated", "code"), RFC4226)
def test_rfc4226_appendix_d_hotp_value(
    counter: int, mac_hex: str, truncated: int, code: str
) -> None:
    assert hotp(RFC4226_KEY, counter) == code


@pytest.mark.parametrize(("counter", "mac_hex", "truncated", "code"), RFC4226)
def test_rfc4226_appendix_d_intermediate_hmac_and_truncation(
    counter: int, mac_hex: str, truncated: int, code: str
) -> None:
    mac = hmac.new(RFC4226_KEY, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    assert mac.hex() == mac_hex
    assert dynamic_truncate(mac) == truncated
    assert str(truncated % 10**6).zfill(6) == code


def test_eight_digit_hotp_keeps_more_of_the_truncated_value() -> None:
    # Truncated value for counter 0 is 1284755224; 8 digits keep 84755224.
    assert hotp(RFC4226_KEY, 0, digits=8) == "84755224"
    assert hotp(RFC4226_KEY, 0, digits=7) == "4755224"


def test_leading_zeros_are_kept() -> None:
    # About one code in ten starts with 0; it must stay six characters long.
    codes = [hotp(RFC4226_KEY, c) for c in range(200)]
    padded = [c for c in codes if c.startswith("0")]
    assert padded, "expected at least one code with a leading zero in 200 counters"
    assert all(len(c) == 6 for c in codes)


def test_verify_finds_the_counter_within_look_ahead() -> None:
    assert hotp_verify(RFC4226_KEY, "969429", 0, look_ahead=5) == 3
    assert hotp_verify(RFC4226_KEY, "755224", 0) == 0


def test_verify_rejects_a_code_beyond_look_ahead() -> None:
    assert hotp_verify(RFC4226_KEY, "338314", 0, look_ahead=3) is None  # counter 4


def test_verify_rejects_a_code_behind_the_counter() -> None:
    assert hotp_verify(RFC4226_KEY, "755224", 1, look_ahead=5) is None  # counter 0


@pytest.mark.parametrize("code", ["75522", "7552240", " 755224", "７５５２２４", "75522a", ""])
def test_verify_rejects_malformed_codes(code: str) -> None:
    assert hotp_verify(RFC4226_KEY, code, 0, look_ahead=2) is None


def test_key_under_128_bits_is_refused() -> None:
    with pytest.raises(OathError, match="at least 128 bits"):
        hotp(b"x" * 15, 0)
    assert hotp(b"x" * 16, 0)  # exactly 128 bits is allowed


@pytest.mark.parametrize("digits", [0, 5, 9, 10, -6, True])
def test_digits_outside_six_to_eight_are_refused(digits: int) -> None:
    with pytest.raises(OathError, match="digits must be 6 to 8"):
        hotp(RFC4226_KEY, 0, digits=digits)


def test_negative_counter_is_refused() -> None:
    with pytest.raises(OathError, match="counter must not be negative"):
        hotp(RFC4226_KEY, -1)
    with pytest.raises(OathError, match="counter must not be negative"):
        hotp_verify(RFC4226_KEY, "755224", -1)


def test_counter_beyond_eight_bytes_is_refused() -> None:
    assert hotp(RFC4226_KEY, 2**64 - 1)
    with pytest.raises(OathError, match="8 bytes"):
        hotp(RFC4226_KEY, 2**64)


@pytest.mark.parametrize("name", ["MD5", "SHA224", "SHA3-256", "", "sha"])
def test_unknown_algorithm_is_refused(name: str) -> None:
    with pytest.raises(OathError, match="unknown algorithm"):
        hotp(RFC4226_KEY, 0, algorithm=name)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("SHA1", "SHA1"), ("sha1", "SHA1"), ("SHA-256", "SHA256"), ("sha512", "SHA512")],
)
def test_algorithm_names_are_normalised(name: str, canonical: str) -> None:
    assert normalize_algorithm(name) == canonical
    assert hash_algorithm(name).name == canonical.lower()


def test_negative_look_ahead_is_refused() -> None:
    with pytest.raises(OathError, match="look_ahead"):
        hotp_verify(RFC4226_KEY, "755224", 0, look_ahead=-1)


def test_generated_keys_are_fresh_and_long_enough() -> None:
    first, second = generate_key(), generate_key()
    assert len(first) == 20
    assert first != second
    assert len(generate_key(32)) == 32
    with pytest.raises(OathError, match="128 bits"):
        generate_key(15)


def test_oath_core_imports_no_django() -> None:
    # The token app imports netbank.oath without Django installed; keep it that way.
    probe = (
        "import sys\n"
        "import netbank.oath\n"  # the package imports every public module
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'socket', 'requests'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
