"""The signing question format: the bank's builder and the token app's parser agree,
and nothing outside the format is signed."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbank.banking.destination import Destination
from netbank.banking.models import AccountType, SigningChallenge
from netbank.banking.signing import SUITE, build_question
from netbank.oath.ocra import encode_question, ocra
from netbank.oath.txsign import ocra_key
from netbank.token_app import signing as app

digits = st.integers(min_value=0, max_value=9).map(str)


def fixed(n: int) -> st.SearchStrategy[str]:
    return st.lists(digits, min_size=n, max_size=n).map("".join)


account_types = st.sampled_from(list(AccountType))
amounts = st.integers(min_value=1, max_value=10**12 - 1)


@settings(deadline=None, max_examples=200)
@given(
    bank=fixed(4),
    branch=fixed(3),
    kind=account_types,
    number=fixed(7),
    amount=amounts,
    nonce=fixed(8),
)
def test_bank_and_app_agree_on_transfer_questions(
    bank: str, branch: str, kind: AccountType, number: str, amount: int, nonce: str
) -> None:
    dest = Destination(bank, branch, kind, number, "ｱ")
    question = build_question(
        purpose=SigningChallenge.Purpose.TRANSFER, nonce=nonce, destination=dest, amount=amount
    )
    described = app.describe_question(question)
    assert (described.bank_code, described.branch_code, described.account_number) == (
        bank,
        branch,
        number,
    )
    assert described.account_type == dest.zengin_type
    assert described.amount == amount
    assert described.nonce == nonce
    key = secrets.token_bytes(32)
    assert app.sign_transaction(
        key,
        bank_code=bank,
        branch_code=branch,
        account_type=dest.zengin_type,
        account_number=number,
        amount=amount,
        nonce=nonce,
    ) == ocra(SUITE, ocra_key(key), question=question)


@settings(deadline=None, max_examples=200)
@given(
    a=st.tuples(fixed(4), fixed(3), account_types, fixed(7), amounts, fixed(8)),
    b=st.tuples(fixed(4), fixed(3), account_types, fixed(7), amounts, fixed(8)),
)
def test_different_operations_have_different_ocra_inputs(
    a: tuple[str, str, AccountType, str, int, str],
    b: tuple[str, str, AccountType, str, int, str],
) -> None:
    """QN reads the question as one number: fixed length and a non-zero first digit
    keep that encoding one-to-one, so no two operations share a code."""

    def q(t: tuple[str, str, AccountType, str, int, str]) -> str:
        return build_question(
            purpose=SigningChallenge.Purpose.TRANSFER,
            nonce=t[5],
            destination=Destination(t[0], t[1], t[2], t[3], "ｱ"),
            amount=t[4],
        )

    if q(a) != q(b):
        assert encode_question(SUITE, q(a)) != encode_question(SUITE, q(b))


def test_purposes_never_share_a_question() -> None:
    dest = Destination("0005", "123", AccountType.ORDINARY, "1234567", "ｱ")
    transfer = build_question(purpose="transfer", nonce="00000001", destination=dest, amount=1)
    payee = build_question(purpose="payee", nonce="00000001", destination=dest)
    limit = build_question(purpose="limit", nonce="00000001", amount=1)
    assert {transfer[0], payee[0], limit[0]} == {"1", "2", "3"}
    assert len({transfer, payee, limit}) == 3
    for question in (transfer, payee, limit):
        assert len(question) == 36
        assert app.build_question(app.describe_question(question)) == question


def test_known_question_layout() -> None:
    dest = Destination("0005", "123", AccountType.SAVINGS, "7654321", "ｱ")
    question = build_question(purpose="transfer", nonce="12345678", destination=dest, amount=50_000)
    assert question == "1" + "0005" + "123" + "4" + "7654321" + "000000050000" + "12345678"
    request = app.describe_question(question)
    assert request.lines() == [
        ("お取引", "振込"),
        ("金融機関コード", "0005"),
        ("支店コード", "123"),
        ("科目", "貯蓄"),
        ("口座番号", "7654321"),
        ("金額", "50,000円"),
        ("取引番号", "12345678"),
    ]


@pytest.mark.parametrize(
    "question",
    [
        "",
        "1" * 35,
        "1" * 37,
        "0" + "1" * 35,  # purpose 0
        "4" + "1" * 35,  # unknown purpose
        "1000512331234567000000000000" + "12345678",  # account type 3 does not exist
        "1000512311234567000000000000" + "12345678",  # a transfer of 0 yen
        "3000512311234567000000001000" + "12345678",  # a limit raise that carries a payee
        "2000512311234567000000001000" + "12345678",  # a payee registration with an amount
        "１" * 36,  # full-width digits
        "1000512311234567000000001000" + "1234567a",
    ],
)
def test_app_refuses_to_sign_a_question_outside_the_format(question: str) -> None:
    with pytest.raises(app.SigningQuestionError):
        app.sign_question(secrets.token_bytes(32), question)


def test_server_builder_refuses_inconsistent_operations() -> None:
    dest = Destination("0005", "123", AccountType.ORDINARY, "1234567", "ｱ")
    with pytest.raises(ValueError, match="amount"):
        build_question(purpose="transfer", nonce="00000001", destination=dest, amount=0)
    with pytest.raises(ValueError, match="payee"):
        build_question(purpose="transfer", nonce="00000001", amount=5)
    with pytest.raises(ValueError, match="no amount"):
        build_question(purpose="payee", nonce="00000001", destination=dest, amount=5)
    with pytest.raises(ValueError, match="nonce"):
        build_question(purpose="limit", nonce="1", amount=5)
    with pytest.raises(ValueError, match="ASCII"):
        Destination("０００５", "123", AccountType.ORDINARY, "1234567", "ｱ")


def _independent_ocra_qn(key: bytes, question: str) -> str:
    """RFC 6287 for the suite, written out from the RFC (no netbank.oath), keyed with the
    OCRA subkey as docs/protocols.md defines it (RFC 5869 HKDF via cryptography)."""
    import hashlib
    import hmac as _hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"netbank-transaction-signing/2",
        info=b"ocra-signing-question\x00",
    ).derive(key)
    q_hex = format(int(question), "X")
    q_bytes = bytes.fromhex(q_hex.ljust(256, "0"))
    mac = _hmac.new(key, SUITE.encode() + b"\x00" + q_bytes, hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**8:08d}"


def test_documented_vectors() -> None:
    """The worked examples in docs/banking.md (key 0x00 0x01 … 0x1f)."""
    key = bytes(range(32))
    transfer = "100051231765432100000005000012345678"
    payee = "200051231765432100000000000012345678"
    limit = "300000000000000000000200000012345678"
    assert (
        app.sign_transaction(
            key,
            bank_code="0005",
            branch_code="123",
            account_type="1",
            account_number="7654321",
            amount=50_000,
            nonce="12345678",
        )
        == _independent_ocra_qn(key, transfer)
        == "96858650"
    )
    assert (
        app.sign_payee(
            key,
            bank_code="0005",
            branch_code="123",
            account_type="1",
            account_number="7654321",
            nonce="12345678",
        )
        == _independent_ocra_qn(key, payee)
        == "15751076"
    )
    assert (
        app.sign_limit(key, new_limit=2_000_000, nonce="12345678")
        == _independent_ocra_qn(key, limit)
        == "59222368"
    )
