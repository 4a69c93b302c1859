"""A customer login never leaves an operator's keys in the same session."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from netbank.customers.session import OPERATOR_KEYS
from tests.customers.factories import make_customer
from tests.customers.support import log_in

pytestmark = pytest.mark.django_db


def test_customer_login_drops_operator_session_keys(frozen_clock: datetime) -> None:
    operator = get_user_model().objects.create_user("op-principal", password="x" * 12)
    client = Client()
    client.force_login(operator)
    assert "_auth_user_id" in client.session
    log_in(client, make_customer().login_id)
    session = client.session
    assert "customer_id" in session
    for key in OPERATOR_KEYS:
        assert key not in session
