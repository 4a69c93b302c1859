"""Token activation, the bank's side of the two-round protocol (docs/protocols.md).

Round one (``activation_start``) remembers the bank's ephemeral X25519 key, sealed, in an
``ActivationSession`` row, so round two (``activation_finish``) can run on any app
process. Round two is the "try" that counts: a wrong proof bumps the token's
``activation_failures`` and the fifth voids the issue. Every refusal is the same
``ActivationFailedError`` for the caller; the reason goes to the audit trail only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from netbank import clock
from netbank.audit.services import record
from netbank.customers.models import Customer
from netbank.notifications.services import notice_enqueue
from netbank.oath import activation as proto
from netbank.otp import crypto
from netbank.otp.activation.signing_key import signing_key
from netbank.otp.models import ActivationSession, Token
from netbank.otp.token_secret import token_secret_seal

log = logging.getLogger(__name__)

# Sealing purposes (the AAD of otp.crypto). token_issue seals the 利用開始パスワード
# as its ASCII digits under ACTIVATION_PASSWORD_PURPOSE.
ACTIVATION_PASSWORD_PURPOSE = "activation-password"  # noqa: S105 - a purpose name, not a secret
EPHEMERAL_PURPOSE = "activation-ephemeral"
# Unfinished round-one answers kept per issue; older ones are dropped (their keys with them).
MAX_OPEN_SESSIONS = 5
# How long round two (and its retry after a lost answer) may follow round one. The same for
# every answer, so expires_at says nothing about whether or since when an issue exists.
ANSWER_SECONDS = 600
PURPOSE_VOIDED_NOTICE = "otp_activation_voided_notice"


class ActivationFailedError(Exception):
    """Activation refused. ``reason`` is for the audit trail and logs, never for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Outcome:
    confirmation: bytes | None
    reason: str = ""


def _max_failures() -> int:
    return int(cast(int, settings.NETBANK_LOCKOUT["max_failures"]))


def _service_id() -> str:
    return str(settings.NETBANK_OTP["service_id"])


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _wipe_activation_password(token: Token) -> None:
    token.activation_key_id = ""
    token.activation_nonce = None
    token.activation_ciphertext = None


def _end_sessions(token: Token, *, keep: ActivationSession | None = None) -> None:
    """Drop the round-one state (and its sealed ephemeral keys) of an issue that ended."""
    sessions = ActivationSession.objects.filter(token=token)
    if keep is not None:
        sessions = sessions.exclude(pk=keep.pk)
    sessions.delete()


def _expire(token: Token, *, ip: str | None) -> None:
    """The 24-hour issue ran out before its app set-up: it can never be activated."""
    token.state = Token.State.EXPIRED
    token.ended_at = clock.now()
    _wipe_activation_password(token)
    token.save(
        update_fields=[
            "state",
            "ended_at",
            "activation_key_id",
            "activation_nonce",
            "activation_ciphertext",
        ]
    )
    _end_sessions(token)
    record(
        "token.expired",
        customer_id=token.customer_id,
        ip=ip,
        token_id=token.pk,
        user_id=token.user_id,
        reason="not_activated_in_time",
    )


def _activatable(token: Token) -> bool:
    """An app token waiting for its app, of a customer whose service is not suspended."""
    return (
        token.state == Token.State.ISSUED
        and token.kind == Token.Kind.APP
        and token.customer.status == Customer.Status.ACTIVE
    )


def _refusal_reason(token: Token | None, *, this_bank: bool) -> str:
    if not this_bank:
        return "other_service_id"
    if token is None:
        return "unknown_user_id"
    if token.customer.status != Customer.Status.ACTIVE:
        return "customer_not_active"
    return f"not_activatable_{token.state}_{token.kind}"


def activation_start(
    *, service_id: str, user_id: str, app_public_key: bytes, ip: str | None
) -> dict[str, object]:
    """Round one: the signed answer (a JSON object) for the app's fresh X25519 key.

    ``service_id`` and ``user_id`` must be well-formed (the API checks) and
    ``app_public_key`` a usable X25519 key (raises ``proto.ActivationError`` otherwise).

    An ID that cannot be activated (unknown, ended, expired, another bank's) gets an
    answer that differs in nothing an observer can see (docs/protocols.md §1.3): the
    same fields, the bank's parameters, ``expires_at`` = ``server_time`` +
    ``ANSWER_SECONDS`` on both paths (never the issue's own end, which would show that
    an issue exists and how old it is), and the same work: one key pair, one seal, one
    signature, the same SQL and one audit append committed. Only the decoy's session row
    is rolled back, so round two fails like a wrong password.
    """
    proto.check_service_id(service_id)
    proto.check_user_id(user_id)
    proto.check_x25519_public_key(app_public_key)  # before anything is stored

    now = clock.now()
    opts = settings.NETBANK_OTP
    server_private, server_public = proto.x25519_generate()
    with transaction.atomic():
        # Looked up whatever the サービスID, so another bank's costs the same query.
        token = (
            Token.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(user_id=user_id)
            .first()
        )
        this_bank = hmac.compare_digest(service_id.encode(), _service_id().encode())
        if not this_bank:
            token = None
        if token is not None and token.state == Token.State.ISSUED and token.expires_at <= now:
            _expire(token, ip=ip)
        real = token if token is not None and _activatable(token) else None
        transcript = proto.Transcript(
            transcript_id=proto.new_transcript_id(),
            service_id=service_id,
            user_id=user_id,
            app_public_key=app_public_key,
            server_public_key=server_public,
            algorithm=real.algorithm if real else str(opts["algorithm"]).upper(),
            digits=real.digits if real else int(opts["digits"]),
            period=real.period if real else int(opts["period"]),
            server_time=_epoch(now),
            expires_at=_epoch(now) + ANSWER_SECONDS,
        )
        # Sealed on both paths (a decoy's under ids no row has), so both cost the same.
        sealed = crypto.seal(
            purpose=EPHEMERAL_PURPOSE,
            token_id=real.pk if real else 0,
            customer_id=real.customer_id if real else 0,
            plaintext=proto.x25519_private_bytes(server_private),
        )
        answer = transcript.to_json(proto.sign_transcript(signing_key(), transcript))
        # The same statements on both paths; a decoy's row is rolled back (its token_id
        # may name no token: foreign keys are checked at commit, and it is gone by then).
        kept = transaction.savepoint()
        answer_ends = now + timedelta(seconds=ANSWER_SECONDS)
        session = ActivationSession.objects.create(
            token_id=real.pk if real else (token.pk if token is not None else 0),
            transcript_id=proto.b64url_encode(transcript.transcript_id),
            transcript=transcript.encode(),
            app_public_key=app_public_key,
            ephemeral_key_id=sealed.key_id,
            ephemeral_nonce=sealed.nonce,
            ephemeral_ciphertext=sealed.ciphertext,
            created_at=now,
            expires_at=min(real.expires_at, answer_ends) if real else answer_ends,
        )
        newest = (
            ActivationSession.objects.filter(token_id=session.token_id)
            .order_by("-created_at", "-pk")
            .values("pk")[:MAX_OPEN_SESSIONS]
        )
        ActivationSession.objects.filter(token_id=session.token_id).exclude(
            pk__in=Subquery(newest)
        ).delete()
        if real is None:
            transaction.savepoint_rollback(kept)
            # Audited like an unknown login ID: the bank sees ID probing.
            record(
                "activation.start_refused",
                customer_id=token.customer_id if token is not None else None,
                ip=ip,
                user_id=user_id,
                reason=_refusal_reason(token, this_bank=this_bank),
            )
            return answer
        transaction.savepoint_commit(kept)
        record(
            "activation.started",
            customer_id=real.customer_id,
            ip=ip,
            token_id=real.pk,
            transcript_id=session.transcript_id,
        )
        return answer


def _burn_equal_time(proof: bytes) -> None:
    """Do the work of a real check, so an unknown transcript costs what a wrong proof does."""
    private, public = proto.x25519_generate()
    shared = proto.x25519_shared_secret(private, public)
    key = hashlib.sha256(shared).digest()
    hmac.compare_digest(hmac.new(key, proof, hashlib.sha256).digest(), proof)


def _already_refused(session: ActivationSession, proof_digest: bytes) -> bool:
    """Whether this exact proof was already counted as wrong in this session (compared in
    constant time against every stored digest; at most max_failures of them)."""
    stored = bytes(session.failed_proof_digests or b"")
    size = len(proof_digest)
    seen = False
    for start in range(0, len(stored) - size + 1, size):
        seen |= hmac.compare_digest(stored[start : start + size], proof_digest)
    return seen


def _void(token: Token, *, ip: str | None) -> None:
    token.state = Token.State.VOIDED
    token.ended_at = clock.now()
    _wipe_activation_password(token)
    _end_sessions(token)
    record(
        "token.voided",
        customer_id=token.customer_id,
        ip=ip,
        token_id=token.pk,
        user_id=token.user_id,
        reason="activation_failures",
    )
    customer = token.customer
    notice_enqueue(
        to=customer.email,
        subject="トークン発行の取消しについて",
        template="otp/mail/activation_voided.txt",
        context={
            "customer": customer,
            "token": token,
            "failures": token.activation_failures,
            "now": timezone.localtime(clock.now()),
        },
        purpose=PURPOSE_VOIDED_NOTICE,
    )


def _finish_locked(*, transcript_id: str, proof: bytes, ip: str | None) -> _Outcome:
    now = clock.now()
    token_pk = (
        ActivationSession.objects.filter(transcript_id=transcript_id)
        .values_list("token_id", flat=True)
        .first()
    )
    if token_pk is None:
        _burn_equal_time(proof)
        return _Outcome(None, "unknown_transcript")
    # Lock the token first (every writer of a token does), then re-read the session.
    token = Token.objects.select_for_update().get(pk=token_pk)
    session = (
        ActivationSession.objects.select_for_update().filter(transcript_id=transcript_id).first()
    )
    if session is None:  # ended while we waited for the lock
        return _Outcome(None, "unknown_transcript")

    if session.completed_at is not None:
        # The same request again after a lost answer: the same confirmation, nothing new.
        if (
            token.state == Token.State.ACTIVATED
            and now < session.expires_at
            and session.proof_digest is not None
            and session.confirmation is not None
            and hmac.compare_digest(hashlib.sha256(proof).digest(), bytes(session.proof_digest))
        ):
            record(
                "activation.replayed",
                customer_id=token.customer_id,
                ip=ip,
                token_id=token.pk,
                transcript_id=transcript_id,
            )
            return _Outcome(bytes(session.confirmation))
        return _Outcome(None, "already_activated")

    if token.state == Token.State.ISSUED and token.expires_at <= now:
        _expire(token, ip=ip)
        return _Outcome(None, "expired")
    if not _activatable(token):
        # Not counted: an ended issue or a suspended customer (緊急利用停止) is no guess.
        return _Outcome(None, f"not_activatable_{token.state}")
    if session.expires_at <= now or not session.ephemeral_ciphertext:
        return _Outcome(None, "session_expired")
    if not token.activation_ciphertext:
        return _Outcome(None, "no_activation_password")
    proof_digest = hashlib.sha256(proof).digest()
    if _already_refused(session, proof_digest):
        # The client resends the very same body after a network error or a 5xx: the
        # same guess gets the same refusal and is not counted again.
        record(
            "activation.resent_failure",
            customer_id=token.customer_id,
            ip=ip,
            token_id=token.pk,
            transcript_id=transcript_id,
        )
        return _Outcome(None, "wrong_proof_resent")

    password = crypto.unseal(
        purpose=ACTIVATION_PASSWORD_PURPOSE,
        token_id=token.pk,
        customer_id=token.customer_id,
        key_id=token.activation_key_id,
        nonce=bytes(token.activation_nonce or b""),
        ciphertext=bytes(token.activation_ciphertext),
    )
    ephemeral = proto.x25519_private_from_bytes(
        crypto.unseal(
            purpose=EPHEMERAL_PURPOSE,
            token_id=token.pk,
            customer_id=token.customer_id,
            key_id=session.ephemeral_key_id,
            nonce=bytes(session.ephemeral_nonce or b""),
            ciphertext=bytes(session.ephemeral_ciphertext),
        )
    )
    transcript = proto.Transcript.decode(bytes(session.transcript))
    keys = proto.derive_keys(
        proto.x25519_shared_secret(ephemeral, bytes(session.app_public_key)), transcript
    )
    expected = proto.client_proof(keys.confirmation_key, transcript, password)

    if not proto.macs_equal(expected, proof):
        token.activation_failures += 1
        if token.activation_failures >= _max_failures():
            _void(token, ip=ip)
            token.save()
            return _Outcome(None, "wrong_proof_voided")
        token.save(update_fields=["activation_failures"])
        session.failed_proof_digests = bytes(session.failed_proof_digests or b"") + proof_digest
        session.save(update_fields=["failed_proof_digests"])
        record(
            "activation.failed",
            customer_id=token.customer_id,
            ip=ip,
            token_id=token.pk,
            failures=token.activation_failures,
        )
        return _Outcome(None, "wrong_proof")

    confirmation = proto.server_confirmation(keys.confirmation_key, transcript, password)
    sealed = token_secret_seal(
        token_id=token.pk,
        customer_id=token.customer_id,
        seed=keys.seed,
        signing_key=keys.signing_key,
    )
    token.state = Token.State.ACTIVATED
    token.activated_at = now
    token.secret_key_id = sealed.key_id
    token.secret_nonce = sealed.nonce
    token.secret_ciphertext = sealed.ciphertext
    token.activation_transcript_hash = transcript.digest()
    token.last_step = -1
    token.drift_steps = 0
    _wipe_activation_password(token)
    token.save()
    session.completed_at = now
    session.proof_digest = proof_digest
    session.confirmation = confirmation
    session.ephemeral_key_id = ""
    session.ephemeral_nonce = None
    session.ephemeral_ciphertext = None
    session.save()
    _end_sessions(token, keep=session)
    record(
        "token.activated",
        customer_id=token.customer_id,
        ip=ip,
        token_id=token.pk,
        user_id=token.user_id,
        transcript_id=transcript_id,
        algorithm=token.algorithm,
        digits=token.digits,
        period=token.period,
    )
    return _Outcome(confirmation)


def activation_finish(*, transcript_id: str, proof: bytes, ip: str | None) -> bytes:
    """Round two: check the app's proof; on success the token is activated and the
    bank's confirmation MAC returned. Raises ``ActivationFailedError`` for every refusal,
    after committing what the refusal changed (a counted failure, a void, an expiry).
    """
    with transaction.atomic():
        outcome = _finish_locked(transcript_id=transcript_id, proof=proof, ip=ip)
    if outcome.confirmation is None:
        log.info("activation refused: %s", outcome.reason)
        raise ActivationFailedError(outcome.reason)
    return outcome.confirmation


def activation_sessions_purge(*, before: datetime | None = None) -> int:
    """Housekeeping: delete round-one rows whose issue can no longer be activated or
    replayed (expired, or their token left the activated/issued states)."""
    moment = before or clock.now()
    deleted, _ = ActivationSession.objects.filter(expires_at__lte=moment).delete()
    ended, _ = ActivationSession.objects.exclude(
        token__state__in=(Token.State.ISSUED, Token.State.ACTIVATED)
    ).delete()
    return deleted + ended
