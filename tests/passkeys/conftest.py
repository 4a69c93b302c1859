from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from netbank.customers.models import Customer
from tests.passkeys.support import ORIGIN, otp_customer


@pytest.fixture
def relying_party(settings: Settings) -> None:
    """The bank at ORIGIN, its relying party and origins derived from it (none configured)."""
    settings.NETBANK_PUBLIC_URL = ORIGIN
    settings.NETBANK_WEBAUTHN_RP_ID = ""
    settings.NETBANK_WEBAUTHN_ORIGINS = []


@pytest.fixture
def customer() -> Customer:
    return otp_customer()
