"""Customer services: creating customers and checking their credentials.

Every credential check follows one sequence: lock the subject's failure counter row
(``lockout_acquire``) so parallel guesses queue, refuse while locked (no hash), verify
exactly once, then reset or count the failure and write the audit row, all in one
transaction. Login adds per-IP throttling before all of it, and runs the same single
Argon2 verification for an unknown login ID as for a wrong password.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from netbank import clock
from netbank.audit.services import record
from netbank.customers import lockout
from netbank.customers.login_policy import login_gates_check
from netbank.customers.messages import lock_message
from netbank.customers.models import Customer, SecretQuestion
from netbank.customers.questions import MAX_QUESTIONS, SECRET_QUESTIONS
from netbank.customers.throttle import login_throttle_hit
from netbank.customers.validators import (
    normalize_answer,
    validate_email_address,
    validate_login_id,
    validate_password_input,
    validate_secret_answer,
)
from netbank.notifications.services import notice_enqueue
from netbank.ops import metrics

# What the login notice calls each channel (msgids).
LOGIN_CHANNEL_LABELS = {
    "web": gettext_noop("ログイン"),
    "direct": gettext_noop("Directログイン（ワンタイムパスワードアプリ）"),
    "passkey": gettext_noop("パスキーでのログイン"),
}


class LoginResult(StrEnum):
    OK = "ok"
    INVALID = "invalid"  # unknown ID or wrong password: one message for both
    LOCKED = "locked"
    THROTTLED = "throttled"
    SUSPENDED = "suspended"
    # A login policy of another app refused this way of logging in (customers.login_policy:
    # with NETBANK_PASSKEY_REQUIRED, a customer who has a passkey must use it).
    POLICY = "policy"


@dataclass(frozen=True)
class LoginOutcome:
    customer: Customer | None
    message: str = ""
    result: LoginResult = LoginResult.OK


@dataclass(frozen=True)
class CredentialOutcome:
    """The result of checking one credential (確認用パスワード, 追加認証の回答)."""

    ok: bool
    message: str = ""
    locked: bool = False
    permanent: bool = False
    until: datetime | None = None
    just_locked: bool = False
    # The question answered is no longer the one being asked (the customer changed
    # the questions meanwhile): nothing was checked or counted; ask again.
    stale: bool = False


def _login_invalid_message() -> str:
    return _("ログインIDまたはログインパスワードが正しくありません。")


@lru_cache(maxsize=4)
def _dummy_hash_for(params: tuple[tuple[str, int], ...]) -> str:
    del params  # the cache key: a parameter change makes a new dummy
    return make_password(secrets.token_urlsafe(16))


def dummy_password_hash() -> str:
    """A hash with the current parameters, verified for unknown login IDs.

    Checking a password against it costs one Argon2 verification, exactly as checking
    a wrong password against a real customer's hash does.
    """
    return _dummy_hash_for(tuple(sorted(settings.NETBANK_ARGON2.items())))


def _rehash_setter(customer: Customer, field: str) -> Callable[[str], None]:
    """Re-hash with the current parameters after a correct check (cost raised)."""

    def setter(raw: str) -> None:
        Customer.objects.filter(pk=customer.pk).update(**{field: make_password(raw)})

    return setter


def _locked_outcome(kind: str, status: lockout.LockStatus) -> CredentialOutcome:
    return CredentialOutcome(
        ok=False,
        message=lock_message(kind, permanent=status.permanent, until=status.until),
        locked=True,
        permanent=status.permanent,
        until=status.until,
        just_locked=status.just_locked,
    )


# --- customers -------------------------------------------------------------------------


def customer_create(
    *,
    login_id: str,
    name_kanji: str,
    name_kana: str,
    email: str,
    password: str,
    transaction_password: str,
    questions: Sequence[tuple[str, str]] | None = None,
) -> Customer:
    """Register a customer. Raises ValidationError for a malformed ID, address or answer."""
    validate_login_id(login_id)
    validate_email_address(email)
    validate_password_input(password)
    validate_password_input(transaction_password, _("確認用パスワード"))
    entries = list(questions or [])
    if len(entries) > MAX_QUESTIONS:
        raise ValidationError(_("追加認証の質問は3つまで登録できます。"))
    for _question, answer in entries:
        validate_secret_answer(answer)
    with transaction.atomic():
        customer = Customer.objects.create(
            login_id=login_id,
            name_kanji=name_kanji,
            name_kana=name_kana,
            email=email,
            password_hash=make_password(password),
            transaction_password_hash=make_password(transaction_password),
            created_at=clock.now(),
        )
        for position, (question, answer) in enumerate(entries, start=1):
            SecretQuestion.objects.create(
                customer=customer,
                position=position,
                question=question,
                answer_hash=make_password(normalize_answer(answer)),
            )
        record("customer.created", customer_id=customer.pk)
    return customer


def customer_security_counter_bump(
    *, customer: Customer, reason: str, operator_id: int | None = None
) -> int:
    """End every session of ``customer`` on its next request, on every app process.

    A caller that wants to keep its own session afterwards stamps it again with
    ``session.session_sync_security_counter``.
    """
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(security_counter=F("security_counter") + 1)
        customer.refresh_from_db(fields=["security_counter"])
        record(
            "customer.sessions_revoked",
            customer_id=customer.pk,
            operator_id=operator_id,
            reason=reason,
        )
    return customer.security_counter


# --- login -----------------------------------------------------------------------------


def login_check_password(
    *, login_id: str, password: str, ip: str | None, channel: str = "web"
) -> LoginOutcome:
    """The first login step (web and Direct login share it, and its counters).

    Throttle per client first (no hash for a refused request), then the lockout of the
    customer, or of the login-ID string when no such customer exists, then exactly
    one Argon2 verification (against a dummy hash for an unknown ID), so an unknown ID
    and a wrong password get the same message, the same cost and the same lock.
    """
    throttle = login_throttle_hit(ip=ip)
    if not throttle.allowed:
        if throttle.first_refusal:
            record("login.throttled", ip=ip, channel=channel, limit=throttle.limit)
        metrics.login_password(channel, "throttled")
        return LoginOutcome(
            None,
            _(
                "ログインの試行が多すぎるため、受付を一時的に制限しています。"
                "しばらくしてから、もう一度お試しください。"
            ),
            LoginResult.THROTTLED,
        )
    customer = Customer.objects.filter(login_id=login_id).first()
    if customer is not None:
        subject = lockout.subject_for_customer(customer)
    else:
        subject = lockout.subject_for_login_id(login_id)
    customer_id = customer.pk if customer is not None else None
    kind = lockout.LOGIN_PASSWORD
    with transaction.atomic():
        status = lockout.lockout_acquire(kind=kind, subject=subject)
        if status.locked:
            record("login.refused_locked", customer_id=customer_id, ip=ip, channel=channel)
            metrics.login_password(channel, "locked")
            return LoginOutcome(None, _locked_outcome(kind, status).message, LoginResult.LOCKED)
        if customer is not None:
            ok = check_password(
                password, customer.password_hash, _rehash_setter(customer, "password_hash")
            )
        else:
            check_password(password, dummy_password_hash())
            ok = False
        if ok and customer is not None:
            lockout.lockout_register_success(kind=kind, subject=subject)
            if customer.status != Customer.Status.ACTIVE:
                record("login.refused_suspended", customer_id=customer_id, ip=ip, channel=channel)
                metrics.login_password(channel, "suspended")
                return LoginOutcome(
                    None,
                    _(
                        "現在、お客さまのお取引は停止されています。"
                        "再開については、ヘルプデスクへご連絡ください。"
                    ),
                    LoginResult.SUSPENDED,
                )
            refusal = login_gates_check(customer=customer, channel=channel, ip=ip)
            if refusal is not None:
                metrics.login_password(channel, "policy")
                return LoginOutcome(None, refusal, LoginResult.POLICY)
            record("login.password_accepted", customer_id=customer_id, ip=ip, channel=channel)
            metrics.login_password(channel, "accepted")
            return LoginOutcome(customer)
        new_status = lockout.lockout_register_failure(
            kind=kind, subject=subject, customer=customer, ip=ip
        )
        # For an unknown ID only the digest is kept: people type passwords into ID fields.
        record(
            "login.failed",
            customer_id=customer_id,
            ip=ip,
            channel=channel,
            subject=None if customer is not None else subject,
        )
    # Many unknown IDs at once is what credential stuffing looks like (the alert rules).
    metrics.login_password(channel, "wrong_password" if customer is not None else "unknown_id")
    if new_status.locked:
        return LoginOutcome(None, _locked_outcome(kind, new_status).message, LoginResult.LOCKED)
    return LoginOutcome(None, _login_invalid_message(), LoginResult.INVALID)


def login_completed(*, customer: Customer, ip: str | None, channel: str, new_device: bool) -> None:
    """Every factor passed: audit the login and send the login notice.

    Called by ``session.session_login`` for every channel, so no login goes unrecorded
    or unannounced. ``new_device``: the browser carries no device tag of this customer
    (``customers.login_devices``); the trail then also gets ``login.new_device`` and the
    same notice says so prominently. One mail per login either way.
    """
    with transaction.atomic():
        record("login.succeeded", customer_id=customer.pk, ip=ip, channel=channel)
        metrics.login(channel)
        if new_device:
            record("login.new_device", customer_id=customer.pk, ip=ip, channel=channel)
        _security_notice_enqueue(
            customer=customer,
            subject=(
                gettext_noop("新しい端末からのログインのお知らせ")
                if new_device
                else gettext_noop("ログインのお知らせ")
            ),
            what=LOGIN_CHANNEL_LABELS.get(channel, LOGIN_CHANNEL_LABELS["web"]),
            purpose="login_notice",
            ip=ip,
            template="customers/mail/login_notice.txt",
            new_device=new_device,
        )


# --- 確認用パスワード -------------------------------------------------------------------


def transaction_password_check(
    *, customer: Customer, password: str, ip: str | None = None
) -> CredentialOutcome:
    """Check the 確認用パスワード (transfers, token issue, settings changes).

    Counts toward the TRANSACTION_PASSWORD lockout; a permanent lock's message names
    the helpdesk.
    """
    kind = lockout.TRANSACTION_PASSWORD
    subject = lockout.subject_for_customer(customer)
    with transaction.atomic():
        status = lockout.lockout_acquire(kind=kind, subject=subject)
        if status.locked:
            record("transaction_password.refused_locked", customer_id=customer.pk, ip=ip)
            return _locked_outcome(kind, status)
        ok = check_password(
            password,
            customer.transaction_password_hash,
            _rehash_setter(customer, "transaction_password_hash"),
        )
        if ok:
            lockout.lockout_register_success(kind=kind, subject=subject)
            record("transaction_password.accepted", customer_id=customer.pk, ip=ip)
            return CredentialOutcome(ok=True)
        new_status = lockout.lockout_register_failure(
            kind=kind, subject=subject, customer=customer, ip=ip
        )
        record("transaction_password.rejected", customer_id=customer.pk, ip=ip)
    if new_status.locked:
        return _locked_outcome(kind, new_status)
    return CredentialOutcome(ok=False, message=_("確認用パスワードが正しくありません。"))


# --- 追加認証 (secret questions) -------------------------------------------------------


def secret_question_pick(*, customer: Customer) -> SecretQuestion | None:
    """The question to ask ``customer`` now, or None if none is registered.

    The same question comes back until it is answered correctly, across page reloads
    and new sessions (the choice is kept on the customer row), so nobody can re-roll
    for an easier one. Callers store the returned id with the attempt and pass it to
    ``secret_answer_check``.
    """
    questions = {q.position: q for q in SecretQuestion.objects.filter(customer=customer)}
    if not questions:
        return None
    current = (
        Customer.objects.filter(pk=customer.pk).values_list("challenge_position", flat=True).first()
    )
    if current is not None and current in questions:
        return questions[current]
    choice = questions[secrets.choice(sorted(questions))]
    # Conditional: if another request picked meanwhile, use its choice.
    if Customer.objects.filter(pk=customer.pk, challenge_position=current).update(
        challenge_position=choice.position
    ):
        customer.challenge_position = choice.position
        return choice
    return secret_question_pick(customer=customer)


def secret_answer_check(
    *, customer: Customer, question_id: int, answer: str, ip: str | None = None
) -> CredentialOutcome:
    """Check an answer to the question ``secret_question_pick`` chose.

    Counts toward the SECRET_ANSWER lockout. The answer is compared after
    ``normalize_answer`` against its Argon2 hash. An answer to any other question
    than the one being asked is refused as stale, unchecked and uncounted.
    """
    kind = lockout.SECRET_ANSWER
    subject = lockout.subject_for_customer(customer)
    with transaction.atomic():
        status = lockout.lockout_acquire(kind=kind, subject=subject)
        if status.locked:
            record("secret_answer.refused_locked", customer_id=customer.pk, ip=ip)
            return _locked_outcome(kind, status)
        current = (
            Customer.objects.filter(pk=customer.pk)
            .values_list("challenge_position", flat=True)
            .first()
        )
        question = SecretQuestion.objects.filter(pk=question_id, customer=customer).first()
        if question is None or current != question.position:
            return CredentialOutcome(
                ok=False,
                stale=True,
                message=_(
                    "追加認証の質問が変更されました。お手数ですが、もう一度操作してください。"
                ),
            )
        if check_password(normalize_answer(answer), question.answer_hash):
            lockout.lockout_register_success(kind=kind, subject=subject)
            # Answered: the next attempt may be asked any of the questions.
            Customer.objects.filter(pk=customer.pk).update(challenge_position=None)
            record(
                "secret_answer.accepted",
                customer_id=customer.pk,
                ip=ip,
                position=question.position,
            )
            return CredentialOutcome(ok=True)
        new_status = lockout.lockout_register_failure(
            kind=kind, subject=subject, customer=customer, ip=ip
        )
        record("secret_answer.rejected", customer_id=customer.pk, ip=ip, position=question.position)
    if new_status.locked:
        return _locked_outcome(kind, new_status)
    return CredentialOutcome(ok=False, message=_("追加認証の回答が正しくありません。"))


@dataclass(frozen=True)
class QuestionEntry:
    """One slot of the registration form. ``answer=None`` keeps the stored answer."""

    position: int
    question: str
    answer: str | None


def _validate_entries(customer: Customer, entries: Sequence[QuestionEntry]) -> None:
    if not entries:
        raise ValidationError(_("追加認証の質問を1つ以上登録してください。"), code="none")
    if len(entries) > MAX_QUESTIONS:
        raise ValidationError(_("追加認証の質問は3つまで登録できます。"), code="too_many")
    positions = [e.position for e in entries]
    if len(set(positions)) != len(positions) or not all(1 <= p <= MAX_QUESTIONS for p in positions):
        raise ValidationError(_("追加認証の登録内容が正しくありません。"), code="positions")
    texts = [e.question for e in entries]
    if any(t not in SECRET_QUESTIONS for t in texts):
        raise ValidationError(_("質問は一覧から選択してください。"), code="question")
    if len(set(texts)) != len(texts):
        raise ValidationError(_("同じ質問を複数登録することはできません。"), code="duplicate")
    stored = {q.position: q.question for q in SecretQuestion.objects.filter(customer=customer)}
    for entry in entries:
        if entry.answer is None:
            if stored.get(entry.position) != entry.question:
                raise ValidationError(
                    _("新しく選択した質問には回答を入力してください。"), code="answer_required"
                )
        else:
            validate_secret_answer(entry.answer)


def secret_questions_change(
    *,
    customer: Customer,
    transaction_password: str,
    entries: Sequence[QuestionEntry],
    ip: str | None = None,
) -> CredentialOutcome:
    """Register or change the 追加認証 questions, behind the 確認用パスワード.

    Raises ValidationError for entries that break the rules (before the password is
    checked, so a form mistake costs no attempt). On success the questions are
    replaced in one transaction, the question being asked is reset, and a notice goes
    to the customer's registered address.
    """
    _validate_entries(customer, entries)
    outcome = transaction_password_check(customer=customer, password=transaction_password, ip=ip)
    if not outcome.ok:
        return outcome
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        kept = {e.position for e in entries if e.answer is None}
        SecretQuestion.objects.filter(customer=customer).exclude(position__in=kept).delete()
        for entry in entries:
            if entry.answer is None:
                continue
            SecretQuestion.objects.create(
                customer=customer,
                position=entry.position,
                question=entry.question,
                answer_hash=make_password(normalize_answer(entry.answer)),
            )
        Customer.objects.filter(pk=customer.pk).update(challenge_position=None)
        record(
            "secret_questions.changed",
            customer_id=customer.pk,
            ip=ip,
            positions=sorted(e.position for e in entries),
            changed=sorted(e.position for e in entries if e.answer is not None),
        )
        _security_notice_enqueue(
            customer=customer,
            subject=gettext_noop("追加認証の質問が変更されました"),
            what=gettext_noop("追加認証の質問と回答の登録・変更"),
        )
    return CredentialOutcome(ok=True)


def _security_notice_enqueue(
    *,
    customer: Customer,
    subject: str,
    what: str,
    purpose: str = "security_notice",
    ip: str | None = None,
    template: str = "customers/mail/change_notice.txt",
    new_device: bool = False,
) -> None:
    """A notice of a login or a security-relevant change, in Japanese, to the registered
    address. ``subject`` and ``what`` are msgids, translated here in the mail's language.
    """
    with translation.override("ja"):
        mail_subject = _(subject)
        what_text = _(what)
    notice_enqueue(
        to=customer.email,
        subject=mail_subject,
        template=template,
        context={
            "customer": customer,
            "what": what_text,
            "ip": ip,
            "new_device": new_device,
            "at": clock.now(),
        },
        purpose=purpose,
    )
