"""The phone app's question.js reads a 取引認証 question exactly as netbank.oath.txquestion
does: the same operation for every question the bank builds, a refusal for every
question the bank's parser refuses."""

from __future__ import annotations

import secrets
from dataclasses import asdict, replace
from datetime import date
from typing import Any

from playwright.sync_api import Page

from netbank.oath import txquestion as q
from netbank.token_app.signing_view import normalise_question
from tests.webapp.conftest import run_js


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def random_request(purpose: str, *, scheduled: bool = False) -> q.SigningRequest:
    nonce = _digits(8)
    if purpose == q.PURPOSE_LIMIT:
        amount = 1 + secrets.randbelow(q.MAX_AMOUNT)
        return q.SigningRequest(purpose, "0000", "000", "0", "0000000", amount, nonce)
    payee = (_digits(4), _digits(3), secrets.choice("124"), _digits(7))
    if purpose == q.PURPOSE_PAYEE:
        return q.SigningRequest(purpose, *payee, 0, nonce)
    day = date.fromordinal(1 + secrets.randbelow(date(9999, 12, 31).toordinal()))
    return q.SigningRequest(
        purpose,
        *payee,
        secrets.choice((1, q.MAX_AMOUNT, 1 + secrets.randbelow(q.MAX_AMOUNT))),
        nonce,
        debit_branch_code=_digits(3),
        debit_account_number=_digits(7),
        execution_date=q.date_field(day if scheduled else None),
    )


def python_view(request: q.SigningRequest) -> dict[str, Any]:
    """Python's parse in the JS module's shape."""
    fields = asdict(request)
    day = request.scheduled_for
    names = {
        "bank_code": "bankCode",
        "branch_code": "branchCode",
        "account_type": "accountType",
        "account_number": "accountNumber",
        "debit_branch_code": "debitBranchCode",
        "debit_account_number": "debitAccountNumber",
    }
    view = {names.get(k, k): v for k, v in fields.items() if k != "execution_date"}
    view["scheduledFor"] = None if day is None else day.isoformat()
    return view


def _refused_by_python(question: object) -> bool:
    try:
        q.describe_question(question)  # type: ignore[arg-type]
    except q.SigningQuestionError:
        return True
    return False


GOOD = q.build_question(random_request(q.PURPOSE_TRANSFER))


def _with(question: str, start: int, digits: str) -> str:
    return question[:start] + digits + question[start + len(digits) :]


MALFORMED = [
    GOOD[:-1],  # 53 digits
    GOOD + "0",  # 55 digits
    GOOD[:36],  # a format-1 question (QN36)
    "0" + GOOD[1:],  # purpose 0
    "4" + GOOD[1:],
    "9" + GOOD[1:],
    GOOD[:20] + "a" + GOOD[21:],
    GOOD[:20]
    + "５"
    + GOOD[21:],  # a full-width digit (normaliseQuestion folds it; describe does not)
    GOOD[:20] + " " + GOOD[21:],
    "-" + GOOD[1:],
    "",
    None,
    54,
    _with(GOOD, 8, "3"),  # account type 3
    _with(GOOD, 8, "0"),
    _with(GOOD, 16, "0" * 12),  # a 振込 of 0 yen
    _with(GOOD, 38, "20270230"),  # not calendar days
    _with(GOOD, 38, "20271301"),
    _with(GOOD, 38, "20270100"),
    _with(GOOD, 38, "00000101"),
    _with(GOOD, 38, "21000229"),
    _with(_with(GOOD, 0, "2"), 16, "0" * 12),  # a payee registration with a debit account
    _with(_with(_with(GOOD, 0, "2"), 16, "0" * 12), 28, "0" * 10 + "20270101"),  # …a date
    _with(GOOD, 0, "2"),  # a payee registration with an amount
    _with(_with(GOOD, 0, "3"), 28, "0" * 18),  # a limit question with a payee
    _with(_with(GOOD, 0, "3"), 1, "0" * 15),  # a limit question with a debit account
    q.build_question(random_request(q.PURPOSE_LIMIT))[:16] + "0" * 38,  # a limit of 0 yen
]


def test_describe_question_reads_what_python_reads_and_refuses_what_it_refuses(
    js_page: Page,
) -> None:
    requests = [random_request(p) for p in "123" for _ in range(5)]
    requests += [random_request(q.PURPOSE_TRANSFER, scheduled=True) for _ in range(10)]
    requests.append(replace(random_request(q.PURPOSE_TRANSFER), execution_date="20280229"))
    questions = [q.build_question(r) for r in requests]
    assert all(_refused_by_python(m) for m in MALFORMED)
    typed = [
        "1 0005 123 1 1234567",
        "１００－０５\u3000１２\t３",
        "12-34-56",
        "①②",
        "ｱｲ",
    ]
    out = run_js(
        js_page,
        """
        const m = await import(APP + "question.js");
        const describe = (text) => { try { return m.describeQuestion(text); }
          catch (e) { return e.name; } };
        return { read: arg.questions.map(describe), refused: arg.malformed.map(describe),
                 typed: arg.typed.map(m.normaliseQuestion) };
        """,
        {"questions": questions, "malformed": MALFORMED, "typed": typed},
    )
    assert out["read"] == [python_view(r) for r in requests]
    assert out["refused"] == ["SigningQuestionError"] * len(MALFORMED)
    assert out["typed"] == [normalise_question(t) for t in typed]
