"""The trail the helpdesk writes holds no secret: no operator password, OTP code or seed,
no customer password or secret answer, no emergency-stop link token, no session key."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers.notices_security import emergency_stop_token
from netbank.customers.services import secret_question_pick
from netbank.helpdesk.models import LiftRequest
from tests.customers.factories import QUESTIONS
from tests.helpdesk.factories import (
    OPERATOR_PASSWORD,
    PASSWORD,
    customer_login,
    identity_post,
    make_customer,
    make_operator,
    operator_login,
)

pytestmark = pytest.mark.django_db


def test_a_whole_helpdesk_case_leaves_no_secret_in_the_trail() -> None:
    customer = make_customer(questions=QUESTIONS)
    customer_login(customer)
    asker = make_operator()
    approver = make_operator("supervisor")
    codes = []
    c_asker = operator_login(asker)
    codes.append(asker.code())
    # A failed operator login with a wrong password and a code.
    Client().post(
        "/helpdesk/login/",
        {
            "username": asker.user.username,
            "password": "Wrong-" + OPERATOR_PASSWORD,
            "code": "654321",
        },
    )
    c_asker.post(
        f"/helpdesk/customers/{customer.pk}/suspend/",
        {"reason": "不正送金の申告", "confirm": "on"},
    )
    link = emergency_stop_token(customer)
    Client().post(f"/security/emergency-stop/{link}/")
    question = secret_question_pick(customer=customer)
    assert question is not None
    answer = dict(QUESTIONS)[question.question]
    r = c_asker.post(
        f"/helpdesk/customers/{customer.pk}/lift/",
        identity_post(
            token_action="resume",
            items=["address"],
            question_id=str(question.pk),
            secret_answer=answer,
        ),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    c_approver = operator_login(approver)
    codes.append(approver.code())
    c_approver.post(
        f"/helpdesk/lift-requests/{LiftRequest.objects.get().pk}/",
        {"action": "approve", "note": "記録を確認し承認"},
    )
    clock.advance(1)

    trail = json.dumps(
        [[r.event, r.data] for r in AuditRecord.objects.order_by("id")], ensure_ascii=False
    )
    assert "helpdesk.lift_approved" in trail
    secrets_ = [
        OPERATOR_PASSWORD,
        PASSWORD,
        asker.seed_base32,
        approver.seed_base32,
        answer,
        link,
        link.split(":")[-1],
        *codes,
        "654321",
        *Session.objects.values_list("session_key", flat=True),
    ]
    for secret in secrets_:
        assert secret not in trail, secret
