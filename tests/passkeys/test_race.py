"""One passkey assertion presented at the same moment by two app processes on one
PostgreSQL: exactly one is accepted (the passkey's row lock, then the challenge's
conditional UPDATE)."""

from __future__ import annotations

import json

import pytest
from pytest_django.fixtures import Settings

from netbank.passkeys import services
from netbank.passkeys.models import Passkey, PasskeyChallenge
from tests.customers.factories import make_customer
from tests.otp.factories import in_use_token
from tests.passkeys import race_worker
from tests.passkeys.authenticator import SoftAuthenticator
from tests.races import results_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

PUBLIC_URL = "https://bank.example.jp"


def test_one_assertion_from_two_processes_is_accepted_exactly_once(settings: Settings) -> None:
    settings.NETBANK_PUBLIC_URL = PUBLIC_URL
    customer = make_customer()
    in_use_token(customer)
    auth = SoftAuthenticator(rp_id="bank.example.jp", origin=PUBLIC_URL)
    services.register(
        customer=customer,
        response=auth.create(services.registration_options(customer=customer)),
        name="iPhone",
        ip=None,
    )
    response = json.dumps(auth.get(services.login_options()))
    db_name = str(settings.DATABASES["default"]["NAME"])
    results = results_at_once(race_worker.authenticate_in_process, db_name, PUBLIC_URL, response)
    assert results == ["accepted", "replayed"]
    assert Passkey.objects.get().sign_count == 1
    assert PasskeyChallenge.objects.filter(purpose="login", used_at__isnull=False).count() == 1
