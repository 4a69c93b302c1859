"""``netbank rotate-otp-key``: re-encrypt every sealed value, resumably, then drop the old key."""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from netbank import clock
from netbank.oath import activation as proto
from netbank.oath.totp import totp
from netbank.otp import crypto
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import ActivationSession, Token
from netbank.otp.token_secret import token_seed
from netbank.otp.verification import Result, otp_verify
from netbank.token_app.client import ActivationClient
from tests.otp.factories import (
    ACTIVATION_PASSWORD,
    BANK_URL,
    SEED,
    client_transport,
    in_use_token,
    issue_token,
)

pytestmark = pytest.mark.django_db

OLD = "old:" + base64.b64encode(b"o" * 32).decode()
NEW = "new:" + base64.b64encode(b"n" * 32).decode()


def _rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_otp_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _key_ids() -> set[str]:
    ids = set(Token.objects.exclude(secret_key_id="").values_list("secret_key_id", flat=True))
    ids |= set(
        Token.objects.exclude(activation_key_id="").values_list("activation_key_id", flat=True)
    )
    ids |= set(
        ActivationSession.objects.exclude(ephemeral_key_id="").values_list(
            "ephemeral_key_id", flat=True
        )
    )
    return ids


def _half_finished_activation(token: Token) -> tuple[dict[str, object], bytes]:
    """Round one done under the old key; returns the app's request for round two."""
    private, public = proto.x25519_generate()
    response = client_transport()(
        BANK_URL + "/api/v1/activation/start",
        json.dumps(
            {
                "service_id": "100001",
                "user_id": token.user_id,
                "app_public_key": proto.b64url_encode(public),
            }
        ).encode(),
    )
    transcript, _ = proto.Transcript.from_json(json.loads(response[1]))
    keys = proto.derive_keys(
        proto.x25519_shared_secret(private, transcript.server_public_key), transcript
    )
    proof = proto.client_proof(keys.confirmation_key, transcript, ACTIVATION_PASSWORD.encode())
    return (
        {
            "transcript_id": proto.b64url_encode(transcript.transcript_id),
            "proof": proto.b64url_encode(proof),
        },
        keys.seed,
    )


def test_rotation_reencrypts_everything_and_the_old_key_can_then_go(
    frozen_clock: datetime,
) -> None:
    with override_settings(NETBANK_OTP_KEYS=OLD):
        in_use = [in_use_token() for _ in range(5)]
        pending = issue_token()
        finish_request, app_seed = _half_finished_activation(pending)
    assert _key_ids() == {"old"}

    with override_settings(NETBANK_OTP_KEYS=f"{NEW},{OLD}"):
        out = _rotate("--batch-size", "2")
        assert "token seeds: 5 re-encrypted under 'new'" in out
        assert "activation passwords: 1 re-encrypted" in out
        assert "activation ephemeral keys: 1 re-encrypted" in out
        assert "token seeds: 2/5" in out  # progress per batch
        assert "'old' can be removed" in out
        assert _key_ids() == {"new"}
        assert "0 re-encrypted" in _rotate()  # re-runnable: nothing left to do
        _rotate("--check")

    with override_settings(NETBANK_OTP_KEYS=NEW):
        # Seeds still verify, and the activation that began before the rotation finishes.
        for token in in_use:
            assert (
                otp_verify(token=token, code=totp(SEED, clock.timestamp()), channel="test").result
                is Result.ACCEPTED
            )
            status, _ = client_transport()(
                BANK_URL + "/api/v1/activation/finish", json.dumps(finish_request).encode()
            )
        assert status == 200
        pending.refresh_from_db()
        assert pending.state == Token.State.ACTIVATED
        assert token_seed(pending) == app_seed


def test_rotation_resumes_where_it_stopped(frozen_clock: datetime) -> None:
    with override_settings(NETBANK_OTP_KEYS=OLD):
        tokens = [in_use_token() for _ in range(4)]
    with override_settings(NETBANK_OTP_KEYS=f"{NEW},{OLD}"):
        # A run that stopped after re-encrypting two rows (simulated by doing them here).
        for token in tokens[:2]:
            plain = crypto.unseal(
                purpose="token-secret",
                token_id=token.pk,
                customer_id=token.customer_id,
                key_id=token.secret_key_id,
                nonce=bytes(token.secret_nonce or b""),
                ciphertext=bytes(token.secret_ciphertext or b""),
            )
            sealed = crypto.seal(
                purpose="token-secret",
                token_id=token.pk,
                customer_id=token.customer_id,
                plaintext=plain,
            )
            Token.objects.filter(pk=token.pk).update(
                secret_key_id=sealed.key_id,
                secret_nonce=sealed.nonce,
                secret_ciphertext=sealed.ciphertext,
            )
        untouched = {
            t.pk: bytes(t.secret_ciphertext or b"")
            for t in Token.objects.filter(pk__in=[t.pk for t in tokens[:2]])
        }
        out = _rotate()
        assert "token seeds: 2 re-encrypted" in out
        for pk, ciphertext in untouched.items():
            assert bytes(Token.objects.get(pk=pk).secret_ciphertext or b"") == ciphertext
        assert _key_ids() == {"new"}


def test_check_fails_while_old_key_ids_remain(frozen_clock: datetime) -> None:
    with override_settings(NETBANK_OTP_KEYS=OLD):
        in_use_token()
    with override_settings(NETBANK_OTP_KEYS=f"{NEW},{OLD}"):
        with pytest.raises(CommandError, match="older key"):
            _rotate("--check")
        _rotate()
        _rotate("--check")


def test_a_row_that_opens_with_no_key_is_reported_and_the_rest_still_rotate(
    frozen_clock: datetime,
) -> None:
    with override_settings(NETBANK_OTP_KEYS=OLD):
        broken, good = in_use_token(), in_use_token()
    Token.objects.filter(pk=broken.pk).update(secret_key_id="lost")
    with override_settings(NETBANK_OTP_KEYS=f"{NEW},{OLD}"):
        with pytest.raises(CommandError, match="1 sealed values could not be opened"):
            _rotate("--batch-size", "1")
        good.refresh_from_db()
        broken.refresh_from_db()
        assert good.secret_key_id == "new"
        assert broken.secret_key_id == "lost"


def test_rotation_with_nothing_sealed_is_a_no_op() -> None:
    out = _rotate()
    assert "token seeds: 0 re-encrypted" in out


def test_activation_client_still_works_after_rotation(frozen_clock: datetime) -> None:
    with override_settings(NETBANK_OTP_KEYS=OLD):
        token = issue_token()
    with override_settings(NETBANK_OTP_KEYS=f"{NEW},{OLD}"):
        _rotate()
    with override_settings(NETBANK_OTP_KEYS=NEW):
        ActivationClient(
            BANK_URL, signing_public_key_text(), transport=client_transport()
        ).activate("100001", token.user_id, ACTIVATION_PASSWORD)
        token.refresh_from_db()
        assert token.secret_key_id == "new"


def test_old_key_is_not_called_removable_while_an_operator_seed_uses_it(
    frozen_clock: datetime,
) -> None:
    """Helpdesk operators' TOTP seeds are sealed under the same key ring: until they are
    re-sealed, removing the old key would lock every operator out of the console."""
    from netbank.helpdesk.models import OperatorCredential
    from tests.helpdesk.factories import make_operator

    with override_settings(NETBANK_OTP_KEYS=OLD):
        in_use_token()
        operator = make_operator()
    with override_settings(NETBANK_OTP_KEYS=f"{NEW},{OLD}"):
        out = _rotate()
        assert "can be removed" not in out
        assert "helpdesk.OperatorCredential" in out
        assert "rotate-operator-otp-key" in out
        with pytest.raises(CommandError, match="older key"):
            _rotate("--check")
        call_command("rotate_operator_otp_key", stdout=io.StringIO())
        assert OperatorCredential.objects.get(user=operator.user).secret_key_id == "new"
        assert "'old' can be removed" in _rotate()
        _rotate("--check")


def test_every_sealed_column_in_the_schema_is_checked() -> None:
    """A model gaining a <x>_key_id/<x>_ciphertext pair is covered without a code change."""
    from django.apps import apps

    from netbank.otp.management.commands.rotate_otp_key import sealed_key_columns

    found = {
        (model, name.removesuffix("_key_id"))
        for model in apps.get_models()
        for name in (f.name for f in model._meta.get_fields())
        if name.endswith("_key_id")
        and any(
            f.name == name.removesuffix("_key_id") + "_ciphertext" for f in model._meta.get_fields()
        )
    }
    labels = {(c.model, c.prefix) for c in sealed_key_columns()}
    assert found <= labels
    assert {m._meta.label for m, _ in labels} >= {
        "otp.Token",
        "otp.ActivationSession",
        "helpdesk.OperatorCredential",
    }
