"""Activation end to end: the token app's protocol client against the bank's API.

Each test plays the phone with netbank.token_app.client and tries to break one rule
of the protocol (docs/protocols.md): wrong, expired and reused issues; forged,
unsigned or misdirected answers; lost answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import mail
from django.test import Client

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.customers.models import Customer
from netbank.notifications.models import OutboxMail
from netbank.oath import activation as proto
from netbank.otp.activation.services import (
    ANSWER_SECONDS,
    PURPOSE_VOIDED_NOTICE,
    activation_sessions_purge,
)
from netbank.otp.activation.signing_key import signing_key, signing_public_key_text
from netbank.otp.models import ActivationSession, Token
from netbank.otp.token_secret import token_secret
from netbank.otp.verification import Result, otp_verify
from netbank.token_app.client import (
    ActivatedToken,
    ActivationClient,
    ActivationRefusedError,
    InvalidInputError,
    NetworkError,
    Transport,
    TransportError,
    UntrustedAnswerError,
    totp_now,
)
from tests.otp.factories import (
    ACTIVATION_PASSWORD,
    BANK_URL,
    client_transport,
    issue_token,
    make_customer,
)

pytestmark = pytest.mark.django_db
SERVICE_ID = "100001"


def _client(transport: Transport | None = None, *, key: str | None = None) -> ActivationClient:
    return ActivationClient(
        BANK_URL,
        key or signing_public_key_text(),
        transport=transport or client_transport(),
        sleep=lambda _: None,
        clock=clock.timestamp,
    )


def _activate(token: Token, password: str = ACTIVATION_PASSWORD, **kw: object) -> ActivatedToken:
    return _client(**kw).activate(SERVICE_ID, token.user_id, password)  # type: ignore[arg-type]


class Recorder:
    """A transport that passes requests to the bank and lets a test tamper with them."""

    def __init__(
        self,
        *,
        on_start: Callable[[dict[str, object]], dict[str, object]] | None = None,
        drop_finish_answers: int = 0,
    ) -> None:
        self.inner = client_transport()
        self.on_start = on_start
        self.drop_finish_answers = drop_finish_answers
        self.paths: list[str] = []
        self.bodies: list[bytes] = []

    def __call__(self, url: str, body: bytes) -> tuple[int, bytes]:
        self.paths.append(url.rsplit("/", 1)[-1])
        self.bodies.append(body)
        status, answer = self.inner(url, body)
        if url.endswith("/start") and self.on_start is not None and status == 200:
            answer = json.dumps(self.on_start(json.loads(answer))).encode()
        if url.endswith("/finish") and self.drop_finish_answers:
            self.drop_finish_answers -= 1
            raise NetworkError("connection reset after the bank answered")
        return status, answer


def _events(token: Token, name: str) -> int:
    return AuditRecord.objects.filter(customer_id=token.customer_id, event=name).count()


# --- the journey that must work -------------------------------------------------------


def test_app_activates_and_its_codes_verify_at_the_bank(frozen_clock: datetime) -> None:
    token = issue_token()
    activated = _activate(token)

    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    assert token.activated_at == frozen_clock
    assert token_secret(token) == activated.seed + activated.signing_key
    assert len(activated.seed) == 20
    assert (activated.algorithm, activated.digits, activated.period) == ("SHA1", 6, 30)
    assert activated.user_id == token.user_id
    assert activated.service_id == SERVICE_ID
    assert abs(activated.server_time_offset) < 1
    # The activation password is gone; the round-one key material too.
    assert token.activation_ciphertext is None
    assert token.activation_key_id == ""
    session = ActivationSession.objects.get(token=token)
    assert session.ephemeral_ciphertext is None
    assert session.completed_at == frozen_clock
    assert _events(token, "token.activated") == 1

    # The code the app shows is the one the bank accepts (利用開始 verifies an activated token).
    outcome = otp_verify(
        token=token,
        code=totp_now(activated, now=clock.timestamp()),
        channel="test",
        states=(Token.State.ACTIVATED,),
    )
    assert outcome.result is Result.ACCEPTED


def test_activation_password_never_crosses_the_wire(frozen_clock: datetime) -> None:
    token = issue_token(activation_password="73519246")
    recorder = Recorder()
    _activate(token, "73519246", transport=recorder)
    assert recorder.paths == ["start", "finish"]
    assert all(b"73519246" not in body for body in recorder.bodies)


def test_server_time_offset_corrects_a_phone_clock_that_is_wrong(frozen_clock: datetime) -> None:
    token = issue_token()
    phone_clock_ahead = clock.timestamp() + 600  # the phone is ten minutes fast
    client = ActivationClient(
        BANK_URL,
        signing_public_key_text(),
        transport=client_transport(),
        clock=lambda: phone_clock_ahead,
    )
    activated = client.activate(SERVICE_ID, token.user_id, ACTIVATION_PASSWORD)
    assert activated.server_time_offset == pytest.approx(-600)
    outcome = otp_verify(
        token=token,
        code=totp_now(activated, now=phone_clock_ahead),
        channel="test",
        states=(Token.State.ACTIVATED,),
    )
    assert outcome.accepted


@pytest.mark.parametrize(("algorithm", "digits", "period"), [("SHA256", 8, 60), ("SHA512", 8, 30)])
def test_the_banks_token_parameters_reach_the_app(
    frozen_clock: datetime, algorithm: str, digits: int, period: int
) -> None:
    token = issue_token(algorithm=algorithm, digits=digits, period=period)
    activated = _activate(token)
    assert (activated.algorithm, activated.digits, activated.period) == (algorithm, digits, period)
    assert len(activated.seed) == {"SHA256": 32, "SHA512": 64}[algorithm]
    code = totp_now(activated, now=clock.timestamp())
    assert len(code) == digits
    assert otp_verify(
        token=token, code=code, channel="test", states=(Token.State.ACTIVATED,)
    ).accepted


# --- wrong, expired, reused -----------------------------------------------------------


def test_wrong_activation_password_is_refused_and_counted(frozen_clock: datetime) -> None:
    token = issue_token()
    with pytest.raises(ActivationRefusedError) as refused:
        _activate(token, "9999")
    assert refused.value.code == "activation_failed"
    token.refresh_from_db()
    assert token.state == Token.State.ISSUED
    assert token.activation_failures == 1
    assert token.secret_ciphertext is None


def test_a_resent_wrong_proof_counts_once(frozen_clock: datetime) -> None:
    # A flaky connection: the bank answers each finish, the phone never hears it, and the
    # client sends the very same body again (3 attempts). One typo is one try.
    token = issue_token()
    recorder = Recorder(drop_finish_answers=2)
    with pytest.raises(ActivationRefusedError) as refused:
        _activate(token, "9999", transport=recorder)
    assert refused.value.code == "activation_failed"
    assert recorder.paths == ["start", "finish", "finish", "finish"]
    assert recorder.bodies[1] == recorder.bodies[2] == recorder.bodies[3]
    token.refresh_from_db()
    assert token.activation_failures == 1
    assert _events(token, "activation.failed") == 1
    assert _events(token, "activation.resent_failure") == 2

    # A different wrong proof in the same session is a new guess and counts again.
    http = Client(REMOTE_ADDR="203.0.113.7")
    other = json.loads(recorder.bodies[1])
    other["proof"] = proto.b64url_encode(bytes(32))
    answer = http.post("/api/v1/activation/finish", other, content_type="application/json")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "activation_failed"
    again = http.post("/api/v1/activation/finish", other, content_type="application/json")
    assert again.json() == answer.json()
    token.refresh_from_db()
    assert token.activation_failures == 2

    # The right password still works afterwards.
    _activate(token)
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED


def test_resending_one_wrong_proof_never_voids_the_issue(frozen_clock: datetime) -> None:
    token = issue_token()
    recorder = Recorder()
    with pytest.raises(ActivationRefusedError):
        _activate(token, "9999", transport=recorder)
    http = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(6):
        answer = http.post(
            "/api/v1/activation/finish", recorder.bodies[1], content_type="application/json"
        )
        assert answer.status_code == 403
    token.refresh_from_db()
    assert token.state == Token.State.ISSUED
    assert token.activation_failures == 1


def test_right_password_still_works_after_four_wrong_ones(frozen_clock: datetime) -> None:
    token = issue_token()
    for _ in range(4):
        with pytest.raises(ActivationRefusedError):
            _activate(token, "0000")
    _activate(token)
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED


def test_fifth_wrong_activation_password_voids_the_issue(frozen_clock: datetime) -> None:
    customer = make_customer(email="hanako@example.jp")
    token = issue_token(customer)
    for _ in range(5):
        with pytest.raises(ActivationRefusedError):
            _activate(token, "1111")
    token.refresh_from_db()
    assert token.state == Token.State.VOIDED
    assert token.activation_failures == 5
    assert token.activation_ciphertext is None
    assert token.ended_at == frozen_clock
    assert not ActivationSession.objects.filter(token=token).exists()
    assert AuditRecord.objects.filter(
        event="token.voided", customer_id=customer.pk, data__reason="activation_failures"
    ).exists()
    notice = OutboxMail.objects.get(purpose=PURPOSE_VOIDED_NOTICE)
    assert notice.to_addr == "hanako@example.jp"
    assert token.user_id in notice.body
    assert "ヘルプデスク" in notice.body

    # Now even the right password cannot bring the issue back.
    with pytest.raises(ActivationRefusedError):
        _activate(token)
    token.refresh_from_db()
    assert token.state == Token.State.VOIDED


def test_expired_issue_is_refused_and_marked_expired(frozen_clock: datetime) -> None:
    token = issue_token()
    clock.advance(24 * 3600)
    with pytest.raises(ActivationRefusedError):
        _activate(token)
    token.refresh_from_db()
    assert token.state == Token.State.EXPIRED
    assert token.activation_ciphertext is None
    assert token.secret_ciphertext is None


def test_issue_that_expires_between_the_two_rounds_is_refused(frozen_clock: datetime) -> None:
    token = issue_token()
    clock.advance(24 * 3600 - 5)

    def late(url: str, body: bytes) -> tuple[int, bytes]:
        if url.endswith("/finish"):
            clock.advance(10)
        return client_transport()(url, body)

    with pytest.raises(ActivationRefusedError):
        _activate(token, transport=late)
    token.refresh_from_db()
    assert token.state == Token.State.EXPIRED
    assert token.activation_failures == 0


def test_already_activated_issue_cannot_be_activated_again(frozen_clock: datetime) -> None:
    token = issue_token()
    first = _activate(token)
    token.refresh_from_db()
    sealed_before = bytes(token.secret_ciphertext or b"")
    with pytest.raises(ActivationRefusedError):
        _activate(token)
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    assert bytes(token.secret_ciphertext or b"") == sealed_before
    assert token_secret(token) == first.seed + first.signing_key


def test_unknown_user_id_and_wrong_service_id_fail_like_a_wrong_password(
    frozen_clock: datetime,
) -> None:
    """The three refusals are indistinguishable: same status, same body."""
    token = issue_token()
    bodies = []
    for service_id, user_id, password in [
        (SERVICE_ID, token.user_id, "0000"),
        (SERVICE_ID, "999999999999", ACTIVATION_PASSWORD),
        ("999999", token.user_id, ACTIVATION_PASSWORD),
    ]:
        recorder = Recorder()
        with pytest.raises(ActivationRefusedError) as refused:
            _client(recorder).activate(service_id, user_id, password)
        # Round one answered with a signed answer every time; round two said no.
        assert recorder.paths == ["start", "finish"]
        assert refused.value.status == 403
        bodies.append((refused.value.code, refused.value.message, refused.value.message_en))
    assert len(set(bodies)) == 1
    token.refresh_from_db()
    assert token.activation_failures == 1  # only the real issue's wrong password counted


def test_start_of_an_unknown_issue_stores_nothing(frozen_clock: datetime) -> None:
    with pytest.raises(ActivationRefusedError):
        _client().activate(SERVICE_ID, "123456789012", ACTIVATION_PASSWORD)
    assert not ActivationSession.objects.exists()


def test_authenticator_token_cannot_be_activated_over_the_app_protocol(
    frozen_clock: datetime,
) -> None:
    token = issue_token(kind=Token.Kind.AUTHENTICATOR)
    with pytest.raises(ActivationRefusedError):
        _activate(token)
    token.refresh_from_db()
    assert token.state == Token.State.ISSUED


# --- lost answers -----------------------------------------------------------------------


def test_lost_finish_answer_is_retried_and_gets_the_same_confirmation(
    frozen_clock: datetime,
) -> None:
    token = issue_token()
    recorder = Recorder(drop_finish_answers=1)
    activated = _activate(token, transport=recorder)
    assert recorder.paths == ["start", "finish", "finish"]
    assert recorder.bodies[1] == recorder.bodies[2]  # the very same request again
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    assert token_secret(token) == activated.seed + activated.signing_key
    assert _events(token, "token.activated") == 1
    assert _events(token, "activation.replayed") == 1
    assert token.activation_failures == 0


def test_repeated_finish_returns_identical_confirmation_but_not_for_another_proof(
    frozen_clock: datetime,
) -> None:
    token = issue_token()
    recorder = Recorder()
    _activate(token, transport=recorder)
    finish = recorder.bodies[1]
    http = Client(REMOTE_ADDR="203.0.113.7")
    first = http.post("/api/v1/activation/finish", finish, content_type="application/json")
    again = http.post("/api/v1/activation/finish", finish, content_type="application/json")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()

    forged = json.loads(finish)
    forged["proof"] = proto.b64url_encode(bytes(32))
    refused = http.post("/api/v1/activation/finish", forged, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "activation_failed"


def test_replay_ends_once_the_token_is_in_use(frozen_clock: datetime) -> None:
    token = issue_token()
    recorder = Recorder()
    _activate(token, transport=recorder)
    Token.objects.filter(pk=token.pk).update(state=Token.State.IN_USE)
    response = Client().post(
        "/api/v1/activation/finish", recorder.bodies[1], content_type="application/json"
    )
    assert response.status_code == 403


def test_client_gives_up_cleanly_when_the_bank_cannot_be_reached() -> None:
    calls: list[str] = []

    def down(url: str, body: bytes) -> tuple[int, bytes]:
        calls.append(url)
        raise NetworkError("connection refused")

    with pytest.raises(TransportError):
        _client(down, key=proto.b64url_encode(bytes(32))).activate(
            SERVICE_ID, "123456789012", ACTIVATION_PASSWORD
        )
    assert len(calls) == 3


# --- answers that are not the bank's ----------------------------------------------------


def _forged_by(key: Ed25519PrivateKey) -> Callable[[dict[str, object]], dict[str, object]]:
    def resign(answer: dict[str, object]) -> dict[str, object]:
        transcript, _ = proto.Transcript.from_json(answer)
        return transcript.to_json(proto.sign_transcript(key, transcript))

    return resign


def _unsigned(answer: dict[str, object]) -> dict[str, object]:
    answer.pop("signature")
    return answer


def _weaker_token(answer: dict[str, object]) -> dict[str, object]:
    answer["digits"] = 8  # a field changed, the bank's signature kept
    return answer


def _attacker_server_key(answer: dict[str, object]) -> dict[str, object]:
    _, public = proto.x25519_generate()
    answer["server_public_key"] = proto.b64url_encode(public)
    return answer


@pytest.mark.parametrize(
    "tamper",
    [
        _unsigned,
        _forged_by(Ed25519PrivateKey.generate()),
        _weaker_token,
        _attacker_server_key,
    ],
    ids=["unsigned", "signed-by-another-key", "field-changed", "server-key-swapped"],
)
def test_client_refuses_an_answer_the_bank_did_not_sign(
    frozen_clock: datetime, tamper: Callable[[dict[str, object]], dict[str, object]]
) -> None:
    token = issue_token()
    recorder = Recorder(on_start=tamper)
    with pytest.raises(UntrustedAnswerError):
        _activate(token, transport=recorder)
    assert recorder.paths == ["start"]  # no proof was ever sent
    token.refresh_from_db()
    assert token.state == Token.State.ISSUED
    assert token.activation_failures == 0


def test_client_refuses_the_real_bank_when_it_trusts_another_key(frozen_clock: datetime) -> None:
    token = issue_token()
    other = proto.ed25519_public_text(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(UntrustedAnswerError):
        _activate(token, key=other)


def test_client_refuses_a_signed_answer_made_for_another_request(frozen_clock: datetime) -> None:
    """A man in the middle swaps in its own X25519 key; the bank signs that. The app
    sees the bank's valid signature over someone else's key and stops."""
    token = issue_token()
    _, mitm_public = proto.x25519_generate()

    def mitm(url: str, body: bytes) -> tuple[int, bytes]:
        if url.endswith("/start"):
            request = json.loads(body)
            request["app_public_key"] = proto.b64url_encode(mitm_public)
            body = json.dumps(request).encode()
        return client_transport()(url, body)

    with pytest.raises(UntrustedAnswerError, match="different request"):
        _activate(token, transport=mitm)


def test_client_refuses_a_confirmation_it_cannot_verify(frozen_clock: datetime) -> None:
    token = issue_token()
    inner = client_transport()

    def wrong_confirmation(url: str, body: bytes) -> tuple[int, bytes]:
        status, answer = inner(url, body)
        if url.endswith("/finish"):
            data = json.loads(answer)
            data["server_confirmation"] = proto.b64url_encode(bytes(32))
            answer = json.dumps(data).encode()
        return status, answer

    with pytest.raises(UntrustedAnswerError):
        _activate(token, transport=wrong_confirmation)


def test_bank_answer_is_signed_with_the_configured_key(frozen_clock: datetime) -> None:
    token = issue_token()
    _, app_public = proto.x25519_generate()
    response = Client().post(
        "/api/v1/activation/start",
        {
            "service_id": SERVICE_ID,
            "user_id": token.user_id,
            "app_public_key": proto.b64url_encode(app_public),
        },
        content_type="application/json",
    )
    transcript, signature = proto.Transcript.from_json(response.json())
    proto.verify_transcript_signature(signing_key().public_key(), transcript, signature)
    assert transcript.server_time == int(frozen_clock.timestamp())
    # How long this answer may be finished, the same for every ID (never the issue's end).
    assert transcript.expires_at == transcript.server_time + ANSWER_SECONDS


@pytest.mark.parametrize(
    ("service_id", "user_id", "password"),
    [
        ("100001", "12345", "4821"),
        ("100001", "123456789012", "48"),
        ("100001", "123456789012", "abcd"),
        ("", "123456789012", "4821"),
    ],
)
def test_client_checks_the_input_before_sending_anything(
    service_id: str, user_id: str, password: str
) -> None:
    sent: list[str] = []

    def transport(url: str, body: bytes) -> tuple[int, bytes]:
        sent.append(url)
        return 500, b""

    with pytest.raises(InvalidInputError):
        _client(transport, key=proto.b64url_encode(bytes(32))).activate(
            service_id, user_id, password
        )
    assert sent == []


def test_mail_is_not_sent_by_a_failed_activation(frozen_clock: datetime) -> None:
    token = issue_token()
    with pytest.raises(ActivationRefusedError):
        _activate(token, "0000")
    assert mail.outbox == []
    assert not OutboxMail.objects.filter(purpose=PURPOSE_VOIDED_NOTICE).exists()


def test_suspended_customer_cannot_activate_and_nothing_is_counted(
    frozen_clock: datetime,
) -> None:
    token = issue_token()
    Customer.objects.filter(pk=token.customer_id).update(status=Customer.Status.SUSPENDED)
    with pytest.raises(ActivationRefusedError):
        _activate(token)
    token.refresh_from_db()
    assert token.state == Token.State.ISSUED
    assert token.activation_failures == 0
    assert not ActivationSession.objects.exists()


def test_suspension_between_the_rounds_stops_the_activation(frozen_clock: datetime) -> None:
    token = issue_token()

    def suspend_before_finish(url: str, body: bytes) -> tuple[int, bytes]:
        if url.endswith("/finish"):
            Customer.objects.filter(pk=token.customer_id).update(status=Customer.Status.SUSPENDED)
        return client_transport()(url, body)

    with pytest.raises(ActivationRefusedError):
        _activate(token, transport=suspend_before_finish)
    token.refresh_from_db()
    assert token.state == Token.State.ISSUED
    assert token.secret_ciphertext is None
    assert token.activation_failures == 0


def test_purge_drops_round_one_state_that_can_no_longer_be_used(frozen_clock: datetime) -> None:
    done, waiting, ended = issue_token(), issue_token(), issue_token()
    _activate(done)
    for token in (waiting, ended):
        _client().transport(
            BANK_URL + "/api/v1/activation/start",
            json.dumps(
                {
                    "service_id": SERVICE_ID,
                    "user_id": token.user_id,
                    "app_public_key": proto.b64url_encode(proto.x25519_generate()[1]),
                }
            ).encode(),
        )
    Token.objects.filter(pk=ended.pk).update(state=Token.State.VOIDED)
    assert activation_sessions_purge() == 1
    assert set(ActivationSession.objects.values_list("token_id", flat=True)) == {
        done.pk,
        waiting.pk,
    }
    clock.advance(24 * 3600)
    assert activation_sessions_purge() == 2
    assert not ActivationSession.objects.exists()
