"""Activation over real HTTP: the app's urllib client against Django's live server."""

from __future__ import annotations

from datetime import datetime

import pytest
from pytest_django.live_server_helper import LiveServer

from netbank import clock
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import Token
from netbank.otp.verification import Result, otp_verify
from netbank.token_app.client import ActivationClient, ActivationRefusedError, totp_now
from tests.otp.factories import ACTIVATION_PASSWORD, issue_token


@pytest.mark.django_db(transaction=True)
def test_app_activates_over_http_and_its_code_is_accepted(
    live_server: LiveServer, frozen_clock: datetime
) -> None:
    token = issue_token()
    client = ActivationClient(
        live_server.url, signing_public_key_text(), timeout=10, clock=clock.timestamp
    )
    with pytest.raises(ActivationRefusedError):
        client.activate("100001", token.user_id, "0000")
    activated = client.activate("100001", token.user_id, ACTIVATION_PASSWORD)
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    assert token.activation_failures == 1
    result = otp_verify(
        token=token,
        code=totp_now(activated, now=clock.timestamp()),
        channel="test",
        states=(Token.State.ACTIVATED,),
    ).result
    assert result is Result.ACCEPTED
