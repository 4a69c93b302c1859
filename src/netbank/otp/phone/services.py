"""The smartphone's ワンタイムパスワード利用申請 (SLI012) as a service.

SLI012 asks for the 追加認証 answer but, unlike the PC's トークン発行（確認）, no
確認用パスワード: the customer has just passed the login password on this phone. The
answer is checked (counting toward its lockout), then the very same ``token_issue``
as the PC journey runs, with its token mail and its notice to the registered address.
"""

from __future__ import annotations

from django.db import transaction

from netbank.customers.models import Customer
from netbank.customers.services import secret_answer_check
from netbank.otp.tokens.services import AuthorisedOutcome, token_issue


def token_issue_phone(
    *,
    customer: Customer,
    email: str,
    activation_password: str,
    question_id: int,
    answer: str,
    ip: str | None,
) -> AuthorisedOutcome:
    """SLI012 → 確定する: the 追加認証 answer, then ``token_issue``, in one transaction.

    Raises ``otp.tokens.services.TokenError`` as ``token_issue`` does (e.g. a suspended customer).
    """
    with transaction.atomic():
        checked = secret_answer_check(
            customer=customer, question_id=question_id, answer=answer, ip=ip
        )
        if checked.locked:
            return AuthorisedOutcome(message=checked.message)
        if checked.stale:
            return AuthorisedOutcome(stale_question=True, message=checked.message)
        if not checked.ok:
            return AuthorisedOutcome(field_errors={"answer": checked.message})
        token = token_issue(
            customer=customer,
            email=email,
            activation_password=activation_password,
            ip=ip,
            smartphone=True,
        )
    return AuthorisedOutcome(token=token)
