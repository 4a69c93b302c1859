"""The signing question format (format 2): the bank's builder and the token app's parser
agree, the encoding is one-to-one, and nothing outside the format is signed."""

from __future__ import annotations

import secrets
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbank.banking.destination import Destination
from netbank.banking.models import Account, AccountType, SigningChallenge
from netbank.banking.signing import QUESTION_DIGITS, SUITE, build_question
from netbank.oath.ocra import encode_question, ocra
from netbank.oath.txsign import ocra_key
from netbank.token_app import signing as app

digits = st.integers(min_value=0, max_value=9).map(str)


def fixed(n: int) -> st.SearchStrategy[str]:
    return st.lists(digits, min_size=n, max_size=n).map("".join)


account_types = st.sampled_from(list(AccountType))
amounts = st.integers(min_value=1, max_value=10**12 - 1)
days = st.none() | st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


def debit(branch: str, number: str) -> Account:
    """An (unsaved) account of the customer's: only its branch and number are signed."""
    return Account(branch_code=branch, account_number=number)


@settings(deadline=None, max_examples=200)
@given(
    bank=fixed(4),
    branch=fixed(3),
    kind=account_types,
    number=fixed(7),
    amount=amounts,
    debit_branch=fixed(3),
    debit_number=fixed(7),
    day=days,
    nonce=fixed(8),
)
def test_bank_and_app_agree_on_transfer_questions(
    bank: str,
    branch: str,
    kind: AccountType,
    number: str,
    amount: int,
    debit_branch: str,
    debit_number: str,
    day: date | None,
    nonce: str,
) -> None:
    dest = Destination(bank, branch, kind, number, "ｱ")
    question = build_question(
        purpose=SigningChallenge.Purpose.TRANSFER,
        nonce=nonce,
        destination=dest,
        amount=amount,
        debit_account=debit(debit_branch, debit_number),
        scheduled_for=day,
    )
    assert len(question) == QUESTION_DIGITS == app.QUESTION_DIGITS
    described = app.describe_question(question)
    assert (described.bank_code, described.branch_code, described.account_number) == (
        bank,
        branch,
        number,
    )
    assert described.account_type == dest.zengin_type
    assert described.amount == amount
    assert (described.debit_branch_code, described.debit_account_number) == (
        debit_branch,
        debit_number,
    )
    assert described.scheduled_for == day
    assert described.nonce == nonce
    key = secrets.token_bytes(32)
    assert app.sign_transaction(
        key,
        bank_code=bank,
        branch_code=branch,
        account_type=dest.zengin_type,
        account_number=number,
        amount=amount,
        debit_branch_code=debit_branch,
        debit_account_number=debit_number,
        scheduled_for=day,
        nonce=nonce,
    ) == ocra(SUITE, ocra_key(key), question=question)


Operation = tuple[str, str, AccountType, str, int, str, str, "date | None", str]
operations = st.tuples(
    fixed(4), fixed(3), account_types, fixed(7), amounts, fixed(3), fixed(7), days, fixed(8)
)


def _transfer(t: Operation) -> str:
    return build_question(
        purpose=SigningChallenge.Purpose.TRANSFER,
        nonce=t[8],
        destination=Destination(t[0], t[1], t[2], t[3], "ｱ"),
        amount=t[4],
        debit_account=debit(t[5], t[6]),
        scheduled_for=t[7],
    )


@settings(deadline=None, max_examples=300)
@given(a=operations, b=operations)
def test_different_operations_have_different_ocra_inputs(a: Operation, b: Operation) -> None:
    """QN reads the question as one number: fixed length and a non-zero first digit
    keep that encoding one-to-one, so no two operations share a code. Two operations
    that differ in anything (the debit account and the date included) differ in the
    OCRA input."""
    if a != b:
        assert _transfer(a) != _transfer(b)
        assert encode_question(SUITE, _transfer(a)) != encode_question(SUITE, _transfer(b))


@settings(deadline=None, max_examples=200)
@given(a=operations, debit_branch=fixed(3), debit_number=fixed(7), day=days)
def test_changing_only_the_debit_account_or_the_date_changes_the_input(
    a: Operation, debit_branch: str, debit_number: str, day: date | None
) -> None:
    b = (*a[:5], debit_branch, debit_number, day, a[8])
    if (a[5], a[6], a[7]) != (debit_branch, debit_number, day):
        assert encode_question(SUITE, _transfer(a)) != encode_question(SUITE, _transfer(b))  # type: ignore[arg-type]


def test_purposes_never_share_a_question() -> None:
    dest = Destination("0005", "123", AccountType.ORDINARY, "1234567", "ｱ")
    transfer = build_question(
        purpose="transfer",
        nonce="00000001",
        destination=dest,
        amount=1,
        debit_account=debit("001", "0000001"),
    )
    payee = build_question(purpose="payee", nonce="00000001", destination=dest)
    limit = build_question(purpose="limit", nonce="00000001", amount=1)
    assert {transfer[0], payee[0], limit[0]} == {"1", "2", "3"}
    assert len({transfer, payee, limit}) == 3
    for question in (transfer, payee, limit):
        assert len(question) == 54
        assert app.build_question(app.describe_question(question)) == question


def test_known_question_layout() -> None:
    dest = Destination("0005", "123", AccountType.SAVINGS, "7654321", "ｱ")
    question = build_question(
        purpose="transfer",
        nonce="12345678",
        destination=dest,
        amount=50_000,
        debit_account=debit("001", "1234567"),
        scheduled_for=date(2026, 12, 10),
    )
    assert question == (
        "1" + "0005" + "123" + "4" + "7654321" + "000000050000"
        "001" + "1234567" + "20261210" + "12345678"
    )
    request = app.describe_question(question)
    assert request.lines() == [
        ("お取引", "振込"),
        ("支払口座", "001-1234567"),
        ("振込指定日", "2026年12月10日"),
        ("金融機関コード", "0005"),
        ("支店コード", "123"),
        ("科目", "貯蓄"),
        ("口座番号", "7654321"),
        ("金額", "50,000円"),
        ("取引番号", "12345678"),
    ]
    now = build_question(
        purpose="transfer",
        nonce="12345678",
        destination=dest,
        amount=50_000,
        debit_account=debit("001", "1234567"),
    )
    assert now[38:46] == "00000000"
    assert ("振込指定日", "即時") in app.describe_question(now).lines()


TRANSFER = "1" + "0005" + "123" + "1" + "1234567" + "000000001000"
PAYEE = "2" + "0005" + "123" + "1" + "1234567" + "000000000000"
LIMIT = "3" + "0" * 15 + "000000001000"
DEBIT = "001" + "7654321"


@pytest.mark.parametrize(
    "question",
    [
        "",
        "1" * 53,
        "1" * 55,
        "1" * 36,  # a format-1 question: an old bank's, never signed by this app
        "0" + "1" * 53,  # purpose 0
        "4" + "1" * 53,  # unknown purpose
        "1000512331234567000000001000" + DEBIT + "00000000" + "12345678",  # type 3
        "1000512311234567000000000000" + DEBIT + "00000000" + "12345678",  # 0 yen
        "3000512311234567000000001000" + "0" * 10 + "00000000" + "12345678",  # limit + payee
        "2000512311234567000000001000" + "0" * 10 + "00000000" + "12345678",  # payee + amount
        PAYEE + DEBIT + "00000000" + "12345678",  # a payee registration with a debit account
        PAYEE + "0" * 10 + "20261210" + "12345678",  # a payee registration with a date
        LIMIT + DEBIT + "00000000" + "12345678",  # a limit raise with a debit account
        LIMIT + "0" * 10 + "20261210" + "12345678",  # a limit raise with a date
        TRANSFER + DEBIT + "20261301" + "12345678",  # month 13
        TRANSFER + DEBIT + "20260230" + "12345678",  # 30 February
        TRANSFER + DEBIT + "00001210" + "12345678",  # year 0
        "１" * 54,  # full-width digits
        TRANSFER + DEBIT + "00000000" + "1234567a",
    ],
)
def test_app_refuses_to_sign_a_question_outside_the_format(question: str) -> None:
    with pytest.raises(app.SigningQuestionError):
        app.sign_question(secrets.token_bytes(32), question)


def test_server_builder_refuses_inconsistent_operations() -> None:
    dest = Destination("0005", "123", AccountType.ORDINARY, "1234567", "ｱ")
    mine = debit("001", "7654321")
    with pytest.raises(ValueError, match="amount"):
        build_question(
            purpose="transfer", nonce="00000001", destination=dest, amount=0, debit_account=mine
        )
    with pytest.raises(ValueError, match="payee"):
        build_question(purpose="transfer", nonce="00000001", amount=5, debit_account=mine)
    with pytest.raises(ValueError, match="debit account"):
        build_question(purpose="transfer", nonce="00000001", destination=dest, amount=5)
    with pytest.raises(ValueError, match="debit branch code must be 3 digits"):
        build_question(
            purpose="transfer",
            nonce="00000001",
            destination=dest,
            amount=5,
            debit_account=debit("01", "7654321"),
        )
    with pytest.raises(ValueError, match="no debit account or date"):
        build_question(purpose="payee", nonce="00000001", destination=dest, debit_account=mine)
    with pytest.raises(ValueError, match="no debit account or date"):
        build_question(
            purpose="limit", nonce="00000001", amount=5, scheduled_for=date(2026, 12, 10)
        )
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
    suite = b"OCRA-1:HOTP-SHA256-8:QN54"
    mac = _hmac.new(key, suite + b"\x00" + q_bytes, hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**8:08d}"


def test_documented_vectors() -> None:
    """The worked examples in docs/banking.md (key 0x00 0x01 … 0x1f)."""
    key = bytes(range(32))
    transfer = "100051231765432100000005000000112345670000000012345678"
    scheduled = "100051231765432100000005000000112345672026121012345678"
    payee = "200051231765432100000000000000000000000000000012345678"
    limit = "300000000000000000000200000000000000000000000012345678"
    to_0005 = {
        "bank_code": "0005",
        "branch_code": "123",
        "account_type": "1",
        "account_number": "7654321",
    }
    from_001 = {"debit_branch_code": "001", "debit_account_number": "1234567"}
    codes = {
        "transfer": app.sign_transaction(
            key, **to_0005, **from_001, amount=50_000, nonce="12345678"
        ),
        "scheduled": app.sign_transaction(
            key,
            **to_0005,
            **from_001,
            amount=50_000,
            scheduled_for=date(2026, 12, 10),
            nonce="12345678",
        ),
        "payee": app.sign_payee(key, **to_0005, nonce="12345678"),
        "limit": app.sign_limit(key, new_limit=2_000_000, nonce="12345678"),
    }
    questions = {"transfer": transfer, "scheduled": scheduled, "payee": payee, "limit": limit}
    for name, question in questions.items():
        assert codes[name] == _independent_ocra_qn(key, question), name
    assert codes == {
        "transfer": "60094655",
        "scheduled": "93145789",
        "payee": "33773466",
        "limit": "12229789",
    }
