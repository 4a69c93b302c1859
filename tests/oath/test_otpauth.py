"""otpauth:// key URIs: base32, build and parse, pyotp interoperability, bad input."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbank.oath import (
    Algorithm,
    OathError,
    OtpAuthUri,
    b32decode,
    b32encode,
    build_uri,
    hotp,
    parse_uri,
    totp,
)

KEY = bytes(range(1, 21))  # 160 bits
KEY_B32 = b32encode(KEY)
PYOTP_DIGESTS: dict[str, Any] = {
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
}


# --- base32 -----------------------------------------------------------------


def test_base32_encodes_upper_case_without_padding() -> None:
    assert b32encode(b"12345678901234567890") == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert b32encode(b"\x00" * 16) == "A" * 26  # 128 bits = 25.6 chars; never '='
    assert "=" not in b32encode(bytes(17))


@pytest.mark.parametrize(
    "typed",
    [
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
        "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
        " gezd gnbv gy3t qojq\tgezd gnbv gy3t qojq ",
    ],
)
def test_base32_decoding_accepts_any_case_and_spaces(typed: str) -> None:
    assert b32decode(typed) == b"12345678901234567890"


def test_base32_decoding_accepts_optional_padding() -> None:
    assert b32decode(base64.b32encode(bytes(17)).decode()) == bytes(17)
    assert b32decode(b32encode(bytes(17))) == bytes(17)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("GEZDGNBVGY3TQOJ1", "only the letters A–Z and digits 2–7"),  # 1 is not base32
        ("GEZDGNBV-GY3TQOJQ", "only the letters A–Z and digits 2–7"),
        ("GEZDGNBVGY3TQOJÖ", "only the letters A–Z and digits 2–7"),
        ("GEZ=DGNBV", "only the letters A–Z and digits 2–7"),
        ("GEZDGNBVG", "cannot encode whole bytes"),  # 9 characters
        ("GEZDGNBVGY3", "cannot encode whole bytes"),  # 11 characters
        ("AB", "stray bits"),  # B sets bits after the last whole byte
    ],
)
def test_bad_base32_is_refused(text: str, message: str) -> None:
    with pytest.raises(OathError, match=message):
        b32decode(text)


@settings(deadline=None)
@given(st.binary(max_size=100).filter(bool))
def test_base32_round_trips(data: bytes) -> None:
    assert b32decode(b32encode(data)) == data
    assert b32decode(b32encode(data).lower()) == data


# --- build ------------------------------------------------------------------


def test_build_writes_label_issuer_and_every_parameter() -> None:
    uri = OtpAuthUri(account="alice@example.jp", issuer="JA Bank", secret=KEY)
    assert build_uri(uri) == (
        f"otpauth://totp/JA%20Bank:alice%40example.jp?secret={KEY_B32}"
        "&issuer=JA%20Bank&algorithm=SHA1&digits=6&period=30"
    )


def test_build_hotp_writes_the_counter_not_the_period() -> None:
    uri = OtpAuthUri(
        type="hotp", account="bob", secret=KEY, counter=7, digits=8, algorithm="SHA256"
    )
    assert build_uri(uri) == (
        f"otpauth://hotp/bob?secret={KEY_B32}&algorithm=SHA256&digits=8&counter=7"
    )


def test_build_percent_encodes_japanese_and_reserved_characters() -> None:
    uri = OtpAuthUri(account="山田 太郎&co/1", issuer="農協+バンク", secret=KEY)
    text = build_uri(uri)
    assert text.isascii()
    assert "&co" not in text
    assert "+" not in text
    assert parse_uri(text) == uri


def test_the_secret_stays_out_of_repr() -> None:
    uri = OtpAuthUri(account="alice", issuer="JA Bank", secret=KEY)
    assert KEY_B32 not in repr(uri)
    assert repr(KEY) not in repr(uri)
    assert uri.label == "JA Bank:alice"


# --- parse ------------------------------------------------------------------


def test_parse_google_example() -> None:
    uri = parse_uri(
        "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        "&issuer=Example"
    )
    assert uri == OtpAuthUri(
        account="alice@google.com",
        issuer="Example",
        secret=b32decode("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    )


def test_parse_takes_the_issuer_from_the_label_or_the_parameter() -> None:
    from_label = parse_uri(f"otpauth://totp/ACME%20Co:%20%20john?secret={KEY_B32}")
    assert (from_label.issuer, from_label.account) == ("ACME Co", "john")
    from_param = parse_uri(f"otpauth://totp/john?secret={KEY_B32}&issuer=ACME%20Co")
    assert (from_param.issuer, from_param.account) == ("ACME Co", "john")
    encoded_colon = parse_uri(f"otpauth://totp/ACME%3Ajohn?secret={KEY_B32}")
    assert (encoded_colon.issuer, encoded_colon.account) == ("ACME", "john")
    no_issuer = parse_uri(f"otpauth://totp/john?secret={KEY_B32}")
    assert (no_issuer.issuer, no_issuer.label) == (None, "john")


def test_parse_applies_defaults_and_normalises_names() -> None:
    uri = parse_uri(f"OTPAUTH://TOTP/john?SECRET={KEY_B32.lower()}&algorithm=sha256&image=x.png")
    assert (uri.type, uri.algorithm, uri.digits, uri.period) == ("totp", "SHA256", 6, 30)
    assert uri.secret == KEY


def test_parse_ignores_period_on_hotp_and_counter_on_totp() -> None:
    hotp_uri = parse_uri(f"otpauth://hotp/j?secret={KEY_B32}&counter=3&period=60")
    assert (hotp_uri.counter, hotp_uri.period) == (3, 30)
    totp_uri = parse_uri(f"otpauth://totp/j?secret={KEY_B32}&counter=3&period=60")
    assert (totp_uri.counter, totp_uri.period) == (0, 60)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"https://totp/john?secret={KEY_B32}", "scheme must be otpauth"),
        (f"otpauth:totp/john?secret={KEY_B32}", "type must be totp or hotp"),
        (f"otpauth://motp/john?secret={KEY_B32}", "type must be totp or hotp"),
        ("otpauth://totp/john?issuer=X", "secret parameter is missing"),
        ("otpauth://totp/john", "secret parameter is missing"),
        ("otpauth://totp/john?secret=", "base32 text is empty"),
        ("otpauth://totp/john?secret=GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ", "not valid base32"),
        ("otpauth://totp/john?secret=GEZDGNBVGY3TQOJQGEZDGN", "cannot encode whole bytes"),
        ("otpauth://totp/john?secret=GEZDGNBVGY3TQOJQGEZA", "at least 128 bits"),  # 96 bits
        (f"otpauth://totp/john?secret={KEY_B32}&digits=5", "digits must be 6 to 8"),
        (f"otpauth://totp/john?secret={KEY_B32}&digits=9", "digits must be 6 to 8"),
        (f"otpauth://totp/john?secret={KEY_B32}&digits=six", "digits must be a whole number"),
        (f"otpauth://totp/john?secret={KEY_B32}&algorithm=MD5", "unknown algorithm"),
        (f"otpauth://totp/john?secret={KEY_B32}&period=0", "period must be a positive"),
        (f"otpauth://totp/john?secret={KEY_B32}&period=-30", "period must be a positive"),
        (f"otpauth://totp/john?secret={KEY_B32}&period=30.5", "period must be a whole number"),
        (f"otpauth://hotp/john?secret={KEY_B32}&counter=-1", "counter must not be negative"),
        (f"otpauth://hotp/john?secret={KEY_B32}", "counter parameter is missing"),
        (f"otpauth://hotp/john?secret={KEY_B32}&counter=1e3", "counter must be a whole number"),
        (f"otpauth://hotp/john?secret={KEY_B32}&counter={2**64}", "8 bytes"),
        (f"otpauth://totp/?secret={KEY_B32}", "no label"),
        (f"otpauth://totp/Bank:?secret={KEY_B32}", "account name must not be empty"),
        (f"otpauth://totp/a:b:c?secret={KEY_B32}", "must not contain a colon"),
        (f"otpauth://totp/A:john?secret={KEY_B32}&issuer=B", "differs from the issuer"),
        (f"otpauth://totp/john?secret={KEY_B32}&issuer=", "issuer must not be empty"),
        (f"otpauth://totp/jo%0Ahn?secret={KEY_B32}", "control characters"),
        (f"otpauth://totp/jo%FFhn?secret={KEY_B32}", "not valid percent-encoded UTF-8"),
        (f"otpauth://totp/john?secret={KEY_B32}&secret={KEY_B32}", "more than once"),
        (f"otpauth://totp/jo hn?secret={KEY_B32}", "without spaces"),
        (f"otpauth://totp/{'a' * 5000}?secret={KEY_B32}", "longer than 4096"),
        ("", "scheme must be otpauth"),
    ],
)
def test_malformed_uris_raise_clear_errors(text: str, message: str) -> None:
    with pytest.raises(OathError, match=message):
        parse_uri(text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"secret": bytes(15)}, "at least 128 bits"),
        ({"digits": 10}, "digits must be 6 to 8"),
        ({"algorithm": "sha1"}, "written SHA1, SHA256 or SHA512"),
        ({"algorithm": "MD5"}, "unknown algorithm"),
        ({"type": "hotp", "counter": -1}, "counter must not be negative"),
        ({"counter": 5}, "counter applies only to hotp"),
        ({"type": "hotp", "period": 60}, "period applies only to totp"),
        ({"account": ""}, "account name must not be empty"),
        ({"account": " alice"}, "must not start or end with spaces"),
        ({"issuer": "A:B"}, "must not contain a colon"),
        ({"type": "motp"}, "type must be totp or hotp"),
    ],
)
def test_invalid_uri_fields_are_refused_when_building(fields: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"account": "alice", "issuer": "Bank", "secret": KEY} | fields
    with pytest.raises(OathError, match=message):
        OtpAuthUri(**values)


# --- pyotp interoperability -------------------------------------------------


@pytest.mark.parametrize("algorithm", ["SHA1", "SHA256", "SHA512"])
@pytest.mark.parametrize(("digits", "period"), [(6, 30), (8, 60), (7, 45)])
def test_pyotp_reads_our_totp_uri_and_gets_our_codes(
    algorithm: Algorithm, digits: int, period: int
) -> None:
    secret = bytes(range(100, 132))
    ours = OtpAuthUri(
        account="yamada01",
        issuer="JA Bank",
        secret=secret,
        algorithm=algorithm,
        digits=digits,
        period=period,
    )
    theirs = pyotp.parse_uri(build_uri(ours))
    assert isinstance(theirs, pyotp.TOTP)
    assert (theirs.name, theirs.issuer) == ("yamada01", "JA Bank")
    for now in (0, 59, 1_111_111_111, 1_800_000_017):
        assert theirs.at(now) == totp(
            secret, now, period=period, digits=digits, algorithm=algorithm
        )


def test_pyotp_reads_our_hotp_uri_and_gets_our_codes() -> None:
    ours = OtpAuthUri(type="hotp", account="bob", issuer="JA Bank", secret=KEY, counter=9)
    theirs = pyotp.parse_uri(build_uri(ours))
    assert isinstance(theirs, pyotp.HOTP)
    assert theirs.initial_count == 9
    # pyotp's at(n) counts from initial_count.
    assert [theirs.at(n) for n in range(3)] == [hotp(KEY, 9 + n) for n in range(3)]


@pytest.mark.parametrize("algorithm", ["SHA1", "SHA256", "SHA512"])
def test_we_read_pyotps_totp_uri(algorithm: Algorithm) -> None:
    secret_b32 = pyotp.random_base32()
    source = pyotp.TOTP(
        secret_b32,
        digits=8,
        digest=PYOTP_DIGESTS[algorithm],
        name="alice@example.jp",
        issuer="JA Bank",
        interval=60,
    )
    ours = parse_uri(source.provisioning_uri())
    assert ours == OtpAuthUri(
        account="alice@example.jp",
        issuer="JA Bank",
        secret=b32decode(secret_b32),
        algorithm=algorithm,
        digits=8,
        period=60,
    )
    assert totp(ours.secret, 1_700_000_000, period=60, digits=8, algorithm=algorithm) == source.at(
        1_700_000_000
    )
    # and our URI for it reads back the same in pyotp
    again = pyotp.parse_uri(build_uri(ours))
    assert isinstance(again, pyotp.TOTP)
    assert again.at(1_700_000_000) == source.at(1_700_000_000)


def test_we_read_pyotps_hotp_uri() -> None:
    secret_b32 = pyotp.random_base32()
    source = pyotp.HOTP(secret_b32, initial_count=42, name="bob", issuer="X")
    ours = parse_uri(source.provisioning_uri())
    assert ours == OtpAuthUri(
        type="hotp", account="bob", issuer="X", secret=b32decode(secret_b32), counter=42
    )
    assert hotp(ours.secret, 42) == source.at(0)


# --- properties -------------------------------------------------------------

_label_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=":"),
    min_size=1,
    max_size=30,
).filter(lambda s: s == s.strip())

uris = st.builds(
    OtpAuthUri,
    type=st.just("totp"),
    account=_label_text,
    issuer=st.none() | _label_text,
    secret=st.binary(min_size=16, max_size=64),
    algorithm=st.sampled_from(["SHA1", "SHA256", "SHA512"]),
    digits=st.sampled_from([6, 7, 8]),
    period=st.integers(min_value=1, max_value=3600),
) | st.builds(
    OtpAuthUri,
    type=st.just("hotp"),
    account=_label_text,
    issuer=st.none() | _label_text,
    secret=st.binary(min_size=16, max_size=64),
    algorithm=st.sampled_from(["SHA1", "SHA256", "SHA512"]),
    digits=st.sampled_from([6, 7, 8]),
    counter=st.integers(min_value=0, max_value=2**64 - 1),
)


@settings(deadline=None)
@given(uris)
def test_parse_of_build_is_the_identity(uri: OtpAuthUri) -> None:
    text = build_uri(uri)
    assert text.isascii()
    assert parse_uri(text) == uri


@settings(deadline=None, max_examples=50)
@given(
    # pyotp refuses periods over 120 s (NIST SP 800-63B-4); we accept any period.
    uris.filter(lambda u: u.type == "totp" and u.period <= 120),
    st.integers(min_value=0, max_value=2**33),
)
def test_pyotp_agrees_on_codes_for_any_totp_uri(uri: OtpAuthUri, now: int) -> None:
    theirs = pyotp.parse_uri(build_uri(uri))
    assert isinstance(theirs, pyotp.TOTP)
    assert theirs.at(now) == totp(
        uri.secret, now, period=uri.period, digits=uri.digits, algorithm=uri.algorithm
    )
