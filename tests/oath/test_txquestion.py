"""The signing question's one encoding (netbank.oath.txquestion), shared by bank and app."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbank.oath import txquestion as q


def fixed(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


transfers = st.builds(
    q.SigningRequest,
    purpose=st.just(q.PURPOSE_TRANSFER),
    bank_code=fixed(4),
    branch_code=fixed(3),
    account_type=st.sampled_from(sorted(q.ACCOUNT_TYPES)),
    account_number=fixed(7),
    amount=st.integers(min_value=1, max_value=q.MAX_AMOUNT),
    nonce=fixed(8),
    debit_branch_code=fixed(3),
    debit_account_number=fixed(7),
    execution_date=st.just(q.IMMEDIATE_DATE)
    | st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(q.date_field),
)


@given(transfers)
def test_a_question_reads_back_as_the_operation_it_was_built_from(
    request: q.SigningRequest,
) -> None:
    question = q.build_question(request)
    assert len(question) == q.QUESTION_DIGITS
    assert question.isascii()
    assert question.isdigit()
    assert q.describe_question(question) == request


@given(transfers, transfers)
def test_two_operations_give_two_questions(a: q.SigningRequest, b: q.SigningRequest) -> None:
    assert (q.build_question(a) == q.build_question(b)) == (a == b)


@pytest.mark.parametrize("digits", ["²", "①", "１"])
def test_digits_that_are_not_ascii_are_refused(digits: str) -> None:
    request = q.SigningRequest(
        q.PURPOSE_TRANSFER, "0005", "123", "1", "123456" + digits, 1000, "00000001"
    )
    with pytest.raises(q.SigningQuestionError, match="account number"):
        q.build_question(request)


def test_a_limit_question_with_a_payee_is_refused() -> None:
    request = q.SigningRequest(q.PURPOSE_LIMIT, "0005", "123", "1", "1234567", 1000, "00000001")
    with pytest.raises(q.SigningQuestionError, match="no payee"):
        q.build_question(request)
