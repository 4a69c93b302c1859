"""Operator TOTP seeds are sealed in the one envelope (otp.crypto) and rotate with it."""

from __future__ import annotations

import base64
import io
import os
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from netbank.helpdesk.models import OperatorCredential
from netbank.helpdesk.operators import _unseal
from netbank.otp.models import Token
from tests.helpdesk.factories import OPERATOR_PASSWORD, in_use_token, make_operator
from tests.helpdesk.test_operator_login import post_login

pytestmark = pytest.mark.django_db

OLD_KEY = b"o" * 32
OLD = "old:" + base64.b64encode(OLD_KEY).decode()
NEW = "new:" + base64.b64encode(b"n" * 32).decode()


def _rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_otp_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_seed_sealed_by_the_former_operator_code_still_opens() -> None:
    """The stored format is unchanged (AES-256-GCM, 12-byte nonce, key id, the operator's
    AAD): seeds enrolled before the envelope was shared need no data migration."""
    with override_settings(NETBANK_OTP_KEYS=OLD):
        operator = make_operator()
        credential = OperatorCredential.objects.get(user=operator.user)
        seed = os.urandom(20)
        nonce = os.urandom(12)
        aad = f"netbank-helpdesk|operator-seed|user={operator.user.pk}".encode()
        credential.secret_key_id = "old"
        credential.secret_nonce = nonce
        credential.secret_ciphertext = AESGCM(OLD_KEY).encrypt(nonce, seed, aad)
        credential.save()
        assert _unseal(credential) == seed


def test_rotate_otp_key_all_re_seals_token_and_operator_seeds_in_one_run(
    frozen_clock: datetime,
) -> None:
    with override_settings(NETBANK_OTP_KEYS=OLD):
        token = in_use_token()
        operator = make_operator()
    with override_settings(NETBANK_OTP_KEYS=f"{NEW},{OLD}"):
        out = _rotate("--all")
        assert "operator seeds: 1 re-encrypted under 'new'" in out
        assert "'old' can be removed" in out
        _rotate("--check")
    assert OperatorCredential.objects.get(user=operator.user).secret_key_id == "new"
    assert Token.objects.get(pk=token.pk).secret_key_id == "new"
    with override_settings(NETBANK_OTP_KEYS=NEW):
        r = post_login(Client(), operator.user.username, OPERATOR_PASSWORD, operator.code())
        assert r.status_code == 302


def test_an_operator_seed_that_does_not_open_is_reported_and_left_alone() -> None:
    with override_settings(NETBANK_OTP_KEYS=OLD):
        operator = make_operator()
    OperatorCredential.objects.filter(user=operator.user).update(secret_ciphertext=b"\0" * 36)
    with (
        override_settings(NETBANK_OTP_KEYS=f"{NEW},{OLD}"),
        pytest.raises(CommandError, match="do not open"),
    ):
        call_command("rotate_operator_otp_key", stdout=io.StringIO())
    assert OperatorCredential.objects.get(user=operator.user).secret_key_id == "old"
