"""Delivering the outbox over SMTP: at most once per row, retried while undelivered.

The crash window and the choice made
------------------------------------
Between "the SMTP server accepted the message" and "the database says sent" there
is always a moment where a crash loses the knowledge that the mail went out. A
worker must then either send again (at-least-once: the customer may get a token
mail twice) or not (at-most-once: a mail may need a person to resend it). A bank's
mail must never arrive twice, so this worker is at-most-once, in three steps:

1. **Claim** (one short transaction): lock one due ``pending`` row, skipping rows
   other workers hold (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
   SQLite the IMMEDIATE transaction already serialises writers), mark it
   ``sending`` with a fresh claim token, count the attempt, and COMMIT. From now
   on no other worker will touch it.
2. **Send** with no transaction open, so no row or database lock is held during
   network I/O (on SQLite a held write lock would stall every web request for
   as long as the SMTP server takes).
3. **Record** (second transaction, conditional on the claim token): ``sent``; or
   back to ``pending`` with exponential backoff when the message certainly did
   not get through (no connection, a 4xx answer); ``failed`` for a permanent 5xx
   answer or when the attempts run out; ``uncertain`` when the connection broke
   after the message data started to flow, because the server may have accepted
   it.

A worker that dies between steps 1 and 3 leaves the row ``sending``; once the
lease (``sending_lease_seconds``) is over, the next pass marks it ``uncertain``.
Uncertain rows are never retried automatically: ``mail_needing_attention()``
lists them (with the failed ones) for the helpdesk, and ``mail_requeue()`` sends
one again once a person has checked with the customer. The only way a mail is
lost is therefore visible, and no automatic path sends a row twice.
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import charset as email_charset
from email.header import Header
from email.utils import format_datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPEmailBackend
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from netbank import clock
from netbank.notifications.models import OutboxMail
from netbank.ops import metrics

logger = logging.getLogger(__name__)

Status = OutboxMail.Status

# UTF-8 with base64 bodies: survives any 7-bit relay and every Japanese carrier.
_UTF8_BASE64 = email_charset.Charset("utf-8")
_UTF8_BASE64.header_encoding = email_charset.BASE64
_UTF8_BASE64.body_encoding = email_charset.BASE64

_ERROR_MAX = 200


@dataclass
class DeliveryReport:
    """What one pass did, for logs, the command's output and tests."""

    sent: int = 0
    deferred: int = 0  # certainly not delivered; pending again with backoff
    failed: int = 0  # permanently refused or out of attempts
    uncertain: int = 0  # the connection broke after the message data started
    expired_claims: int = 0  # rows abandoned in ``sending`` by a dead worker
    smtp_unavailable: bool = False  # the pass stopped: no connection to the server

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.failed + self.uncertain

    def __str__(self) -> str:
        text = (
            f"sent={self.sent} deferred={self.deferred} failed={self.failed} "
            f"uncertain={self.uncertain} expired_claims={self.expired_claims}"
        )
        return text + (" smtp_unavailable" if self.smtp_unavailable else "")


def _policy() -> dict[str, Any]:
    return dict(settings.NETBANK_MAIL_DELIVERY)


def backoff_seconds(attempts: int) -> int:
    """Delay before the next try after ``attempts`` failed ones: base·2^(n-1), capped."""
    policy = _policy()
    base = int(policy["backoff_base_seconds"])
    cap = int(policy["backoff_cap_seconds"])
    exponent = max(attempts - 1, 0)
    # Stop doubling once past the cap so a large attempt count cannot overflow.
    if exponent >= 32:
        return cap
    return int(min(cap, base * (2**exponent)))


# --- SMTP connection that knows whether the message data started to flow -----------


class _DataTracking:
    """Mixin for smtplib.SMTP: remembers that DATA began for the current message.

    Before DATA the server cannot have accepted the message, so any failure means
    "not delivered"; after it, a broken connection leaves the outcome unknown.
    """

    data_started = False

    def data(self, msg: Any) -> Any:
        self.data_started = True
        return super().data(msg)  # type: ignore[misc]


class _TrackingSMTP(_DataTracking, smtplib.SMTP):
    pass


class _TrackingSMTPSSL(_DataTracking, smtplib.SMTP_SSL):
    pass


class _TrackingEmailBackend(SMTPEmailBackend):
    """Django's SMTP backend (settings EMAIL_*/SMTP_*) on a tracking connection."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _TrackingSMTPSSL if self.use_ssl else _TrackingSMTP


def _backend() -> BaseEmailBackend:
    backend_class = import_string(settings.EMAIL_BACKEND)
    if isinstance(backend_class, type) and issubclass(backend_class, SMTPEmailBackend):
        return _TrackingEmailBackend(fail_silently=False)
    # locmem, console, file …: no network, so a failure always means "not delivered".
    backend: BaseEmailBackend = get_connection(fail_silently=False)
    return backend


def _data_started(backend: BaseEmailBackend) -> bool:
    conn = getattr(backend, "connection", None)
    return bool(getattr(conn, "data_started", False))


# --- building the message ------------------------------------------------------------


class _BankEmailMessage(EmailMessage):
    def message(self) -> Any:
        msg = super().message()
        subject = str(self.subject)
        if not subject.isascii():
            # Django encodes the subject without knowing the "Subject: " prefix, so the
            # folded header starts with an empty line and decoders see a leading space.
            # Encoding it with its name folds it as RFC 2047 intends.
            msg.replace_header("Subject", Header(subject, _UTF8_BASE64, header_name="Subject"))
        return msg


def build_message(mail: OutboxMail) -> EmailMessage:
    """The RFC 5322 message for one outbox row; the same bytes on every attempt."""
    message = _BankEmailMessage(
        subject=mail.subject,
        body=mail.body,
        from_email=mail.from_addr,
        to=[mail.to_addr],
        headers={
            "Message-ID": mail.message_id,
            # The time the bank wrote the mail, in the bank's zone (+0900).
            "Date": format_datetime(timezone.localtime(mail.created_at)),
            # RFC 3834: no vacation or out-of-office answers to a send-only address.
            "Auto-Submitted": "auto-generated",
        },
    )
    message.encoding = _UTF8_BASE64
    return message


# --- the error text kept on the row --------------------------------------------------


def _short_error(exc: BaseException) -> str:
    """A short, secret-free description: class, SMTP code and the server's words.

    Never the SMTP credentials, never the recipient list (personal data), at most
    _ERROR_MAX printable ASCII characters.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _msg in exc.recipients.values()})
        text = f"SMTPRecipientsRefused: {','.join(str(c) for c in codes)}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode("ascii", "replace")
        text = f"{type(exc).__name__}: {exc.smtp_code} {reply}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    for secret in (settings.EMAIL_HOST_PASSWORD, settings.EMAIL_HOST_USER):
        if secret:
            text = text.replace(secret, "***")
    text = re.sub(r"[^\x20-\x7e]+", " ", text).strip()
    return text[:_ERROR_MAX]


# --- the three steps -------------------------------------------------------------------


def _expire_claims(now: datetime) -> int:
    """Rows left ``sending`` past the lease: their worker died mid-send. Never resent."""
    lease = timedelta(seconds=int(_policy()["sending_lease_seconds"]))
    expired = OutboxMail.objects.filter(status=Status.SENDING, claimed_at__lt=now - lease)
    # A plain read first: an idle worker polling every second must not take SQLite's
    # write lock (BEGIN IMMEDIATE) from the web server each time.
    if not expired.exists():
        return 0
    with transaction.atomic(durable=True):
        count = expired.update(
            status=Status.UNCERTAIN,
            last_error="outcome unknown: worker stopped while sending; not retried",
        )
    if count:
        metrics.mail("uncertain", count)
        logger.warning("outbox: %d claim(s) expired while sending; marked uncertain", count)
    return count


def _claim_next(now: datetime) -> tuple[OutboxMail, str] | None:
    """Step 1: take one due row for this worker and commit the claim."""
    due = OutboxMail.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "id"
    )
    if not due.exists():  # read-only when idle, as in _expire_claims
        return None
    with transaction.atomic(durable=True):
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        else:
            # SQLite: no row locks; the IMMEDIATE transaction holds the write lock.
            due = due.select_for_update()
        mail = due.first()
        if mail is None:
            return None
        token = secrets.token_hex(16)
        mail.status = Status.SENDING
        mail.attempts += 1
        mail.claimed_at = now
        mail.claim_token = token
        mail.save(update_fields=["status", "attempts", "claimed_at", "claim_token"])
    return mail, token


# The metrics' name of each status a delivery attempt ends in.
_MAIL_OUTCOMES = {
    Status.SENT: "sent",
    Status.PENDING: "retry",
    Status.FAILED: "failed",
    Status.UNCERTAIN: "uncertain",
}


def _record(mail: OutboxMail, token: str, **changes: Any) -> None:
    """Step 3: write the outcome, only if this worker still holds the claim."""
    with transaction.atomic(durable=True):
        updated = OutboxMail.objects.filter(
            pk=mail.pk,
            claim_token=token,
            # A slow worker whose lease expired still knows better than "uncertain".
            status__in=[Status.SENDING, Status.UNCERTAIN],
        ).update(**changes)
    if not updated:
        logger.error("outbox: mail %s changed under its claim; outcome not recorded", mail.pk)
        return
    metrics.mail(_MAIL_OUTCOMES[changes["status"]])


def _record_sent(mail: OutboxMail, token: str) -> None:
    _record(mail, token, status=Status.SENT, sent_at=clock.now(), last_error="")
    logger.info("outbox: mail %s (%s) sent", mail.pk, mail.purpose)


def _record_not_delivered(
    mail: OutboxMail, token: str, error: str, *, permanent: bool, report: DeliveryReport
) -> None:
    max_attempts = int(_policy()["max_attempts"])
    if permanent or mail.attempts >= max_attempts:
        _record(mail, token, status=Status.FAILED, last_error=error)
        report.failed += 1
        logger.error(
            "outbox: mail %s failed after %d attempt(s): %s", mail.pk, mail.attempts, error
        )
        return
    retry_at = clock.now() + timedelta(seconds=backoff_seconds(mail.attempts))
    _record(mail, token, status=Status.PENDING, next_attempt_at=retry_at, last_error=error)
    report.deferred += 1
    logger.warning(
        "outbox: mail %s not delivered (attempt %d), retry at %s: %s",
        mail.pk,
        mail.attempts,
        retry_at.isoformat(),
        error,
    )


def _is_permanent(exc: BaseException) -> bool:
    """A definite 5xx refusal of this message (not of our own sender configuration)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def _close_quietly(backend: BaseEmailBackend) -> None:
    try:
        backend.close()
    except Exception:  # closing a broken connection must not mask the outcome
        logger.debug("outbox: closing the SMTP connection failed", exc_info=True)


def deliver_due(*, batch_size: int = 20, stop: threading.Event | None = None) -> DeliveryReport:
    """Send up to ``batch_size`` due outbox rows, one claim at a time.

    Any number of workers may run this at once. Call it outside any transaction:
    each row is claimed and recorded in its own committed transaction.
    ``stop`` (set by a signal handler) ends the pass after the current row.
    """
    report = DeliveryReport()
    report.expired_claims = _expire_claims(clock.now())
    backend: BaseEmailBackend | None = None
    try:
        for _ in range(batch_size):
            if stop is not None and stop.is_set():
                break
            claimed = _claim_next(clock.now())
            if claimed is None:
                break
            mail, token = claimed
            try:
                message = build_message(mail)
                message.message()  # header injection and encoding errors surface here
            except Exception as exc:  # a row that cannot be built is never sent
                _record_not_delivered(
                    mail,
                    token,
                    f"message not built: {_short_error(exc)}",
                    permanent=True,
                    report=report,
                )
                continue
            if backend is None:
                backend = _backend()
                try:
                    backend.open()
                except OSError as exc:
                    # No connection at all: certainly not delivered. The other due
                    # rows stay untouched until the server is back.
                    _record_not_delivered(
                        mail, token, _short_error(exc), permanent=False, report=report
                    )
                    report.smtp_unavailable = True
                    _close_quietly(backend)
                    backend = None
                    break
            conn = getattr(backend, "connection", None)
            if conn is not None and hasattr(conn, "data_started"):
                conn.data_started = False
            try:
                sent_count = backend.send_messages([message])
            except smtplib.SMTPResponseException as exc:
                # The server answered with a refusal: certainly not delivered.
                _record_not_delivered(
                    mail, token, _short_error(exc), permanent=_is_permanent(exc), report=report
                )
                _close_quietly(backend)
                backend = None
            except smtplib.SMTPRecipientsRefused as exc:
                _record_not_delivered(
                    mail, token, _short_error(exc), permanent=_is_permanent(exc), report=report
                )
            except OSError as exc:
                error = _short_error(exc)
                if _data_started(backend):
                    _record(
                        mail,
                        token,
                        status=Status.UNCERTAIN,
                        last_error=f"outcome unknown after DATA: {error}"[:_ERROR_MAX],
                    )
                    report.uncertain += 1
                    logger.error("outbox: mail %s outcome unknown, not retried: %s", mail.pk, error)
                else:
                    _record_not_delivered(mail, token, error, permanent=False, report=report)
                _close_quietly(backend)
                backend = None
            else:
                if sent_count == 1:
                    _record_sent(mail, token)
                    report.sent += 1
                else:
                    # Django skips a message without recipients: nothing went out.
                    _record_not_delivered(
                        mail, token, "no recipient address", permanent=True, report=report
                    )
    finally:
        if backend is not None:
            _close_quietly(backend)
    return report


def run_worker(
    *,
    stop: threading.Event,
    poll_seconds: float | None = None,
    batch_size: int = 20,
) -> None:
    """Deliver until ``stop`` is set: drain due rows, then wait ``poll_seconds``.

    Used by ``netbank send-mail`` and by the demo's worker thread. A database or
    network outage is logged and retried on the next poll; it never ends the loop.
    """
    interval = float(_policy()["poll_seconds"] if poll_seconds is None else poll_seconds)
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                report = deliver_due(batch_size=batch_size, stop=stop)
            except Exception:
                logger.exception("outbox: delivery pass failed; retrying after the poll interval")
                report = None
            if report is not None and report.handled >= batch_size and not report.smtp_unavailable:
                continue  # more may be due right now
            stop.wait(interval)
    finally:
        connection.close()
