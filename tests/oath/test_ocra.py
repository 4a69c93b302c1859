"""OCRA (RFC 6287): every appendix C vector, suite parsing, signature mode, bad input."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbank.oath import (
    OathError,
    ocra,
    ocra_password_hash,
    ocra_timestamp,
    ocra_verify,
    ocra_verify_timestamp,
    parse_suite,
)
from netbank.oath.ocra import data_input, encode_question

from .vectors import (
    OCRA_KEY20,
    OCRA_KEY32,
    OCRA_KEY64,
    OCRA_MUTUAL,
    OCRA_PIN_SHA1,
    OCRA_SHA1_QN08,
    OCRA_SHA256_C_QN08_PSHA1,
    OCRA_SHA256_QN08_PSHA1,
    OCRA_SHA512_C_QN08,
    OCRA_SHA512_QN08_T1M,
    OCRA_SIGNATURE_SHA256_QA08,
    OCRA_SIGNATURE_SHA512_QA10_T1M,
    OCRA_TIMESTAMP,
)

# --- RFC 6287 appendix C ----------------------------------------------------


@pytest.mark.parametrize(("question", "response"), OCRA_SHA1_QN08)
def test_c1_one_way_sha1_numeric_challenge(question: str, response: str) -> None:
    assert ocra("OCRA-1:HOTP-SHA1-6:QN08", OCRA_KEY20, question=question) == response


@pytest.mark.parametrize(("counter", "response"), OCRA_SHA256_C_QN08_PSHA1)
def test_c1_one_way_sha256_counter_and_pin(counter: int, response: str) -> None:
    suite = "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1"
    assert (
        ocra(suite, OCRA_KEY32, counter=counter, question="12345678", password_hash=OCRA_PIN_SHA1)
        == response
    )


@pytest.mark.parametrize(("question", "response"), OCRA_SHA256_QN08_PSHA1)
def test_c1_one_way_sha256_pin(question: str, response: str) -> None:
    suite = "OCRA-1:HOTP-SHA256-8:QN08-PSHA1"
    assert ocra(suite, OCRA_KEY32, question=question, password_hash=OCRA_PIN_SHA1) == response


@pytest.mark.parametrize(("counter", "question", "response"), OCRA_SHA512_C_QN08)
def test_c1_one_way_sha512_counter(counter: int, question: str, response: str) -> None:
    suite = "OCRA-1:HOTP-SHA512-8:C-QN08"
    assert ocra(suite, OCRA_KEY64, counter=counter, question=question) == response


@pytest.mark.parametrize(("question", "response"), OCRA_SHA512_QN08_T1M)
def test_c1_one_way_sha512_timestamp(question: str, response: str) -> None:
    suite = "OCRA-1:HOTP-SHA512-8:QN08-T1M"
    assert ocra(suite, OCRA_KEY64, question=question, timestamp_steps=OCRA_TIMESTAMP) == response


@pytest.mark.parametrize(("suite", "key", "pin_hash", "question", "response"), OCRA_MUTUAL)
def test_c2_mutual_challenge_response(
    suite: str, key: bytes, pin_hash: bytes | None, question: str, response: str
) -> None:
    assert ocra(suite, key, question=question, password_hash=pin_hash) == response


@pytest.mark.parametrize(("question", "response"), OCRA_SIGNATURE_SHA256_QA08)
def test_c3_plain_signature(question: str, response: str) -> None:
    assert ocra("OCRA-1:HOTP-SHA256-8:QA08", OCRA_KEY32, question=question) == response


@pytest.mark.parametrize(("question", "response"), OCRA_SIGNATURE_SHA512_QA10_T1M)
def test_c3_signature_with_timestamp(question: str, response: str) -> None:
    suite = "OCRA-1:HOTP-SHA512-8:QA10-T1M"
    assert ocra(suite, OCRA_KEY64, question=question, timestamp_steps=OCRA_TIMESTAMP) == response


def test_the_rfc_pin_hash_is_sha1_of_1234() -> None:
    assert ocra_password_hash("OCRA-1:HOTP-SHA256-8:QN08-PSHA1", "1234") == OCRA_PIN_SHA1


def test_the_rfc_timestamp_is_minutes_since_the_epoch() -> None:
    suite = "OCRA-1:HOTP-SHA512-8:QN08-T1M"
    minute_start = OCRA_TIMESTAMP * 60  # 2008-03-25 12:06:00 UTC
    assert ocra_timestamp(suite, minute_start) == OCRA_TIMESTAMP
    assert ocra_timestamp(suite, minute_start + 59.9) == OCRA_TIMESTAMP
    assert ocra_timestamp(suite, minute_start + 60) == OCRA_TIMESTAMP + 1


# --- suite parsing ------------------------------------------------------------


def test_parse_suite_reads_every_field() -> None:
    suite = parse_suite("OCRA-1:HOTP-SHA512-8:C-QH40-PSHA256-S128-T30S")
    assert suite.text == "OCRA-1:HOTP-SHA512-8:C-QH40-PSHA256-S128-T30S"
    assert suite.algorithm == "SHA512"
    assert suite.digits == 8
    assert suite.counter is True
    assert (suite.question_format, suite.question_length) == ("H", 40)
    assert suite.password_algorithm == "SHA256"
    assert suite.password_hash_length == 32
    assert suite.session_length == 128
    assert suite.time_step == 30


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("OCRA-1:HOTP-SHA1-6:QN08-T1S", 1),
        ("OCRA-1:HOTP-SHA1-6:QN08-T59M", 59 * 60),
        ("OCRA-1:HOTP-SHA1-6:QN08-T48H", 48 * 3600),
        ("OCRA-1:HOTP-SHA1-6:QN08", None),
    ],
)
def test_parse_suite_time_steps(text: str, step: int | None) -> None:
    assert parse_suite(text).time_step == step


def test_parse_suite_minimal_suite_has_no_optional_inputs() -> None:
    suite = parse_suite("OCRA-1:HOTP-SHA1-4:QA04")
    assert (suite.counter, suite.password_algorithm, suite.session_length, suite.time_step) == (
        False,
        None,
        None,
        None,
    )
    assert suite.digits == 4
    assert parse_suite("OCRA-1:HOTP-SHA1-10:QN64").digits == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("OCRA-2:HOTP-SHA1-6:QN08", "only OCRA-1"),
        ("ocra-1:hotp-sha1-6:qn08", "only OCRA-1"),
        ("OCRA-1:HOTP-SHA1-6", "three parts"),
        ("OCRA-1:HOTP-SHA1-6:QN08:X", "three parts"),
        ("OCRA-1:HOTP-MD5-6:QN08", "crypto function"),
        ("OCRA-1:TOTP-SHA1-6:QN08", "crypto function"),
        ("OCRA-1:HOTP-SHA1:QN08", "crypto function"),
        ("OCRA-1:HOTP-SHA1-0:QN08", "truncation 0"),
        ("OCRA-1:HOTP-SHA1-06:QN08", "without a leading zero"),
        ("OCRA-1:HOTP-SHA1-3:QN08", "4 to 10 digits"),
        ("OCRA-1:HOTP-SHA1-11:QN08", "4 to 10 digits"),
        ("OCRA-1:HOTP-SHA1-6:", "data input must be"),
        ("OCRA-1:HOTP-SHA1-6:C", "needs a challenge question"),
        ("OCRA-1:HOTP-SHA1-6:QX08", "data input must be"),
        ("OCRA-1:HOTP-SHA1-6:QN8", "data input must be"),
        ("OCRA-1:HOTP-SHA1-6:QN03", "challenge length must be 04 to 64"),
        ("OCRA-1:HOTP-SHA1-6:QN65", "challenge length must be 04 to 64"),
        ("OCRA-1:HOTP-SHA1-6:QN08-C", "unexpected data input 'C'"),
        ("OCRA-1:HOTP-SHA1-6:QN08-PMD5", "unexpected data input 'PMD5'"),
        ("OCRA-1:HOTP-SHA1-6:QN08-PSHA1-PSHA1", "each at most once"),
        ("OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1", "unexpected data input 'PSHA1'"),
        ("OCRA-1:HOTP-SHA1-6:QN08-S64", "unexpected data input 'S64'"),
        ("OCRA-1:HOTP-SHA1-6:QN08-S000", "S000 is empty"),
        ("OCRA-1:HOTP-SHA1-6:QN08-T0M", "use 1–59M"),
        ("OCRA-1:HOTP-SHA1-6:QN08-T60S", "use 1–59S"),
        ("OCRA-1:HOTP-SHA1-6:QN08-T49H", "use 1–48H"),
        ("OCRA-1:HOTP-SHA1-6:QN08-T1D", "unexpected data input 'T1D'"),
        ("OCRA-1:HOTP-SHA1-6:QN08-", "unexpected data input ''"),
        ("OCRA-1:HOTP-SHA1-6:C-C-QN08", "data input must be"),
        ("OCRA-1:HOTP-SHA1-6:ＱN08", "ASCII"),
    ],
)
def test_malformed_suites_raise_clear_errors(text: str, message: str) -> None:
    with pytest.raises(OathError, match=message):
        parse_suite(text)


# --- inputs must match the suite -----------------------------------------------


@pytest.mark.parametrize(
    ("suite", "inputs", "message"),
    [
        ("OCRA-1:HOTP-SHA1-6:C-QN08", {}, "needs a counter"),
        ("OCRA-1:HOTP-SHA1-6:QN08", {"counter": 1}, "has no counter"),
        ("OCRA-1:HOTP-SHA1-6:C-QN08", {"counter": -1}, "counter must not be negative"),
        ("OCRA-1:HOTP-SHA1-6:C-QN08", {"counter": 2**64}, "8 bytes"),
        ("OCRA-1:HOTP-SHA1-6:QN08-PSHA1", {}, "needs a password hash"),
        ("OCRA-1:HOTP-SHA1-6:QN08-PSHA1", {"password_hash": b"1234"}, "20-byte SHA1 digest"),
        ("OCRA-1:HOTP-SHA1-6:QN08-PSHA256", {"password_hash": OCRA_PIN_SHA1}, "32-byte SHA256"),
        ("OCRA-1:HOTP-SHA1-6:QN08", {"password_hash": OCRA_PIN_SHA1}, "has no password"),
        ("OCRA-1:HOTP-SHA1-6:QN08-S064", {}, "needs 64 bytes of session"),
        ("OCRA-1:HOTP-SHA1-6:QN08-S064", {"session_info": bytes(63)}, "exactly 64 bytes"),
        ("OCRA-1:HOTP-SHA1-6:QN08", {"session_info": bytes(64)}, "has no session"),
        ("OCRA-1:HOTP-SHA1-6:QN08-T1M", {}, "needs a timestamp"),
        ("OCRA-1:HOTP-SHA1-6:QN08-T1M", {"timestamp_steps": -1}, "between 0 and 2\\*\\*64"),
        ("OCRA-1:HOTP-SHA1-6:QN08", {"timestamp_steps": 5}, "has no timestamp"),
    ],
)
def test_inputs_that_do_not_match_the_suite_are_refused(
    suite: str, inputs: dict[str, Any], message: str
) -> None:
    with pytest.raises(OathError, match=message):
        ocra(suite, OCRA_KEY20, question="12345678", **inputs)


@pytest.mark.parametrize(
    ("suite", "question", "message"),
    [
        ("OCRA-1:HOTP-SHA1-6:QN08", "1234567a", "only the digits 0–9"),
        ("OCRA-1:HOTP-SHA1-6:QN08", "-1234567", "only the digits 0–9"),
        ("OCRA-1:HOTP-SHA1-6:QN08", "１２３４５６７８", "ASCII"),
        ("OCRA-1:HOTP-SHA1-6:QH08", "ABCDEFGX", "only 0–9 and A–F"),
        ("OCRA-1:HOTP-SHA1-6:QA08", "SIG 1000", "only A–Z, a–z and 0–9"),
        ("OCRA-1:HOTP-SHA1-6:QA08", "SIG", "at least 4 characters"),
        ("OCRA-1:HOTP-SHA1-6:QA64", "A" * 129, "does not fit in 128 bytes"),
        ("OCRA-1:HOTP-SHA1-6:QH64", "F" * 257, "does not fit in 128 bytes"),
        ("OCRA-1:HOTP-SHA1-6:QN64", "9" * 309, "does not fit in 128 bytes"),
        ("OCRA-1:HOTP-SHA1-6:QN64", "9" * 10_000, "does not fit in 128 bytes"),
    ],
)
def test_malformed_challenges_are_refused(suite: str, question: str, message: str) -> None:
    with pytest.raises(OathError, match=message):
        ocra(suite, OCRA_KEY20, question=question)


def test_key_under_128_bits_is_refused() -> None:
    with pytest.raises(OathError, match="at least 128 bits"):
        ocra("OCRA-1:HOTP-SHA1-6:QN08", bytes(15), question="12345678")


# --- the message layout --------------------------------------------------------


def test_data_input_layout_matches_rfc_section_5() -> None:
    suite = "OCRA-1:HOTP-SHA1-6:C-QH08-PSHA1-S016-T1M"
    message = data_input(
        suite,
        question="0A1B",
        counter=1,
        password_hash=OCRA_PIN_SHA1,
        session_info=b"s" * 16,
        timestamp_steps=OCRA_TIMESTAMP,
    )
    head = suite.encode() + b"\x00"
    assert message[: len(head)] == head
    rest = message[len(head) :]
    assert rest[:8] == (1).to_bytes(8, "big")
    assert rest[8:136] == bytes.fromhex("0A1B") + bytes(126)
    assert rest[136:156] == OCRA_PIN_SHA1
    assert rest[156:172] == b"s" * 16
    assert rest[172:] == OCRA_TIMESTAMP.to_bytes(8, "big")


def test_question_encodings_follow_the_reference_implementation() -> None:
    # QN: the decimal number in hex, then right-padded; QH: odd length padded with a 0 nibble.
    assert encode_question("OCRA-1:HOTP-SHA1-6:QN08", "12345678")[:4] == bytes.fromhex("BC614E00")
    assert encode_question("OCRA-1:HOTP-SHA1-6:QN08", "00000256")[:2] == bytes.fromhex("1000")
    assert encode_question("OCRA-1:HOTP-SHA1-6:QH08", "abc12")[:3] == bytes.fromhex("ABC120")
    assert encode_question("OCRA-1:HOTP-SHA1-6:QA08", "SIG10000")[:8] == b"SIG10000"
    assert all(
        len(encode_question(f"OCRA-1:HOTP-SHA1-6:Q{f}08", q)) == 128
        for f, q in (("N", "1234"), ("H", "ABCD"), ("A", "ABCD"))
    )


def test_numeric_challenges_ignore_leading_zeros_as_the_rfc_does() -> None:
    suite = "OCRA-1:HOTP-SHA1-6:QN08"
    assert ocra(suite, OCRA_KEY20, question="00001234") == ocra(suite, OCRA_KEY20, question="1234")


# --- verification and signature mode ---------------------------------------------

SIGN_SUITE = "OCRA-1:HOTP-SHA256-8:QH40"


def signing_challenge(payee: str, amount: int) -> str:
    """A stand-in for the bank's challenge: 40 hex digits binding payee and amount."""
    return hashlib.sha256(f"{payee}|{amount}".encode()).hexdigest()[:40].upper()


def test_signature_verifies_only_for_the_signed_payee_and_amount() -> None:
    question = signing_challenge("0001-123-1234567", 50_000)
    code = ocra(SIGN_SUITE, OCRA_KEY32, question=question)
    assert ocra_verify(SIGN_SUITE, OCRA_KEY32, code, question=question)
    changed_amount = signing_challenge("0001-123-1234567", 500_000)
    changed_payee = signing_challenge("0001-123-7654321", 50_000)
    assert not ocra_verify(SIGN_SUITE, OCRA_KEY32, code, question=changed_amount)
    assert not ocra_verify(SIGN_SUITE, OCRA_KEY32, code, question=changed_payee)
    assert not ocra_verify(SIGN_SUITE, OCRA_KEY64, code, question=question)


@pytest.mark.parametrize(("question", "response"), OCRA_SIGNATURE_SHA256_QA08)
def test_rfc_signatures_verify(question: str, response: str) -> None:
    assert ocra_verify("OCRA-1:HOTP-SHA256-8:QA08", OCRA_KEY32, response, question=question)


@pytest.mark.parametrize("response", ["5309549", "530954960", "5309 5496", "５３０９５４９６", ""])
def test_malformed_responses_do_not_verify(response: str) -> None:
    assert not ocra_verify("OCRA-1:HOTP-SHA256-8:QA08", OCRA_KEY32, response, question="SIG10000")


def test_timed_signature_verifies_within_the_window_and_returns_the_step() -> None:
    suite = "OCRA-1:HOTP-SHA512-8:QA10-T1M"
    code = "77537423"  # SIG1000000 at T = 132d0b6
    for offset in (-2, 0, 2):
        now = OCRA_TIMESTAMP + offset
        assert ocra_verify(
            suite, OCRA_KEY64, code, question="SIG1000000", timestamp_steps=now, timestamp_window=2
        )
        assert (
            ocra_verify_timestamp(
                suite,
                OCRA_KEY64,
                code,
                question="SIG1000000",
                timestamp_steps=now,
                timestamp_window=2,
            )
            == OCRA_TIMESTAMP
        )
    for offset in (-3, 3):
        assert not ocra_verify(
            suite,
            OCRA_KEY64,
            code,
            question="SIG1000000",
            timestamp_steps=OCRA_TIMESTAMP + offset,
            timestamp_window=2,
        )


def test_timestamp_window_needs_a_timed_suite() -> None:
    with pytest.raises(OathError, match="no timestamp"):
        ocra_verify(SIGN_SUITE, OCRA_KEY32, "12345678", question="AB" * 20, timestamp_window=1)
    with pytest.raises(OathError, match="no timestamp"):
        ocra_verify_timestamp(
            SIGN_SUITE, OCRA_KEY32, "12345678", question="AB" * 20, timestamp_steps=1
        )
    with pytest.raises(OathError, match="timestamp_window must be 0 to 10"):
        ocra_verify(
            "OCRA-1:HOTP-SHA1-6:QN08-T1M",
            OCRA_KEY20,
            "123456",
            question="12345678",
            timestamp_steps=1,
            timestamp_window=11,
        )


def test_helpers_refuse_suites_without_their_input() -> None:
    with pytest.raises(OathError, match="no password"):
        ocra_password_hash("OCRA-1:HOTP-SHA1-6:QN08", "1234")
    with pytest.raises(OathError, match="no timestamp"):
        ocra_timestamp("OCRA-1:HOTP-SHA1-6:QN08", 0)
    with pytest.raises(OathError, match="before 1970"):
        ocra_timestamp("OCRA-1:HOTP-SHA1-6:QN08-T1M", -1)


@settings(deadline=None)
@given(
    key=st.binary(min_size=16, max_size=64),
    question=st.text(alphabet="0123456789ABCDEF", min_size=4, max_size=40),
    algorithm=st.sampled_from(["SHA1", "SHA256", "SHA512"]),
    digits=st.integers(min_value=4, max_value=10),
)
def test_any_generated_response_verifies(
    key: bytes, question: str, algorithm: str, digits: int
) -> None:
    suite = parse_suite(f"OCRA-1:HOTP-{algorithm}-{digits}:QH40")
    response = ocra(suite, key, question=question)
    assert len(response) == digits
    assert response.isdigit()
    assert ocra_verify(suite, key, response, question=question)
    wrong = str((int(response) + 1) % 10**digits).zfill(digits)
    assert not ocra_verify(suite, key, wrong, question=question)
