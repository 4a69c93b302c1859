"""The helpdesk's actions on a customer. Every one needs an operator and a reason, and
writes its audit record (``operator_id``, the customer, what, when, why) in the same
transaction as the change. All but the emergency suspension also need a recorded
identity check that came out verified (docs/helpdesk.md says what the operator asks).

Rules that belong to a domain app stay there: suspending tokens and voiding
Direct-login URLs (``otp.tokens.suspension``), cancelling scheduled transfers
(``banking.suspension``), the customer's status and sessions (``customers.suspension``),
unlocking (``customers.lockout.lockout_clear``). This module composes them.

Locks are taken in the order every domain service uses: the customer row first, then
tokens / transfers / the helpdesk's own rows, so nothing here deadlocks with a login,
a token change or a transfer.

Input errors raise ``ActionError`` before anything is written. Once an identity check
has been recorded (and, for a secret answer, counted), a failed check does not raise:
the action returns ``ActionOutcome(ok=False)`` so the evidence is committed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from netbank import clock
from netbank.audit.services import record
from netbank.customers import lockout
from netbank.customers.login_policy import login_recovery_grant
from netbank.customers.models import Customer, FailureCounter
from netbank.customers.notices import KIND_LABELS
from netbank.customers.notices_security import (
    helpdesk_action_notice_enqueue,
    lifted_notice_enqueue,
)
from netbank.customers.services import secret_answer_check
from netbank.customers.suspension import (
    SOURCE_HELPDESK,
    SuspendOutcome,
    customer_reactivate,
    customer_suspend,
)
from netbank.helpdesk.conf import console_int
from netbank.helpdesk.models import IdentityCheck, LiftRequest
from netbank.helpdesk.operators import ROLE_SUPERVISOR, operator_role
from netbank.otp.models import Token
from netbank.otp.tokens import mails as otp_mails
from netbank.otp.tokens.suspension import (
    token_mail_pending,
    tokens_resettable,
    tokens_resume,
    tokens_revoke,
)
from netbank.passkeys import services as passkeys

REASON_MAX = 500
REASON_MIN = 4
URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")

# What the caller answered, as the identity check records it (docs/helpdesk.md).
IDENTITY_ITEMS = {
    "name_birthdate": gettext_lazy("氏名・生年月日"),
    "address": gettext_lazy("登録住所"),
    "account": gettext_lazy("口座番号（支店・科目）"),
    "recent_activity": gettext_lazy("最近のお取引・ご利用状況"),
}
# A verified check needs at least this many confirmed items (a correct secret answer,
# checked by the system, counts as one).
IDENTITY_MIN_ITEMS = 2

# Identity-check purposes (what the check was for).
PURPOSE_UNLOCK = "unlock"
PURPOSE_TOKEN_RESET = "token_reset"  # noqa: S105 - a purpose name, not a secret
PURPOSE_TOKEN_MAIL = "token_mail_resend"  # noqa: S105
PURPOSE_LIFT = "lift"
PURPOSE_LOGIN_RECOVERY = "login_recovery"
# What a check was for, as the console names it.
PURPOSE_LABELS = {
    PURPOSE_UNLOCK: gettext_lazy("ロック解除"),
    PURPOSE_TOKEN_RESET: gettext_lazy("トークンの失効"),
    PURPOSE_TOKEN_MAIL: gettext_lazy("トークン発行メールの再送"),
    PURPOSE_LIFT: gettext_lazy("利用再開"),
    PURPOSE_LOGIN_RECOVERY: gettext_lazy("パスキーを使わないログインの許可"),
}


class ActionError(Exception):
    """The action cannot be done as asked; nothing was written. ``message`` is for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ActionOutcome:
    ok: bool
    message: str = ""
    identity_check: IdentityCheck | None = None
    lift_request: LiftRequest | None = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class IdentityCheckInput:
    """What the operator entered. ``secret_answer`` is what the caller said, checked by
    the system and never stored or logged."""

    method: str
    items: Sequence[str]
    result: str
    note: str
    secret_question_id: int | None = None
    secret_answer: str | None = None

    def __repr__(self) -> str:
        return f"IdentityCheckInput(method={self.method!r}, result={self.result!r})"


# --- checks -------------------------------------------------------------------------


def _require_operator(operator: User) -> str:
    role = operator_role(operator)
    if role is None:
        raise ActionError(_("この操作を行う権限がありません。"))
    return role


def _require_supervisor(operator: User) -> None:
    if operator_role(operator) != ROLE_SUPERVISOR:
        raise ActionError(_("この操作はスーパーバイザーのみ行えます。"))


def _free_text(text: str) -> str:
    """Free text for the trail: whitespace folded, no control characters, no URLs (a
    URL is where single-use tokens hide, so the trail refuses them)."""
    folded = " ".join((text or "").split())
    if any(unicodedata.category(c) == "Cc" for c in folded):
        raise ActionError(_("使用できない文字が含まれています。"))
    if URL_RE.search(folded):
        raise ActionError(_("URLは入力できません。"))
    return folded


def _clean_reason(reason: str) -> str:
    text = _free_text(reason)
    if len(text) < REASON_MIN:
        raise ActionError(_("理由を4文字以上で入力してください。"))
    if len(text) > REASON_MAX:
        raise ActionError(_("理由は500文字以内で入力してください。"))
    return text


def _validate_check(check: IdentityCheckInput) -> None:
    if check.method not in IdentityCheck.Method.values:
        raise ActionError(_("本人確認の方法を選択してください。"))
    if check.result not in IdentityCheck.Result.values:
        raise ActionError(_("本人確認の結果を選択してください。"))
    if any(item not in IDENTITY_ITEMS for item in check.items):
        raise ActionError(_("本人確認の項目が正しくありません。"))
    note = _free_text(check.note)
    if not note or len(note) > REASON_MAX:
        raise ActionError(_("本人確認の内容（記録）を500文字以内で入力してください。"))
    answered = bool(check.secret_answer and check.secret_answer.strip())
    if answered and check.secret_question_id is None:
        raise ActionError(_("追加認証の質問をもう一度表示してから入力してください。"))
    if check.result == IdentityCheck.Result.VERIFIED:
        count = len(set(check.items)) + (1 if answered else 0)
        if count < IDENTITY_MIN_ITEMS:
            raise ActionError(
                _("本人確認済みとするには、確認できた項目を2つ以上選択してください。")
            )


def _record_identity_check(
    *, customer: Customer, operator: User, purpose: str, check: IdentityCheckInput, ip: str | None
) -> IdentityCheck:
    """Record the check (inside the action's transaction). A wrong secret answer makes
    it a failed check whatever the operator chose, and counts toward the customer's
    追加認証 lockout like any wrong answer."""
    secret_ok: bool | None = None
    if check.secret_answer and check.secret_answer.strip() and check.secret_question_id:
        outcome = secret_answer_check(
            customer=customer,
            question_id=check.secret_question_id,
            answer=check.secret_answer,
            ip=ip,
        )
        if outcome.stale:
            raise ActionError(
                _("追加認証の質問が変更されました。表示された質問でもう一度確認してください。")
            )
        secret_ok = outcome.ok
    result = check.result
    if secret_ok is False:
        result = IdentityCheck.Result.FAILED
    identity_check = IdentityCheck.objects.create(
        customer=customer,
        operator=operator,
        purpose=purpose,
        method=check.method,
        items=sorted(set(check.items)),
        secret_answer_ok=secret_ok,
        result=result,
        note=_free_text(check.note),
        created_at=clock.now(),
    )
    record(
        "helpdesk.identity_check",
        customer_id=customer.pk,
        operator_id=operator.pk,
        ip=ip,
        identity_check_id=identity_check.pk,
        purpose=purpose,
        method=check.method,
        items=identity_check.items,
        secret_answer_status=None if secret_ok is None else ("correct" if secret_ok else "wrong"),
        result=result,
    )
    return identity_check


def _identity_checked(
    *,
    customer: Customer,
    operator: User,
    purpose: str,
    action: str,
    check: IdentityCheckInput,
    ip: str | None,
) -> tuple[IdentityCheck, ActionOutcome | None]:
    """Record the identity check for ``action``; the second value is the refusal to
    return when it did not verify the customer. A refusal is an answer, not an error:
    the caller returns it and its transaction commits, keeping the check's record."""
    identity_check = _record_identity_check(
        customer=customer, operator=operator, purpose=purpose, check=check, ip=ip
    )
    if identity_check.result == IdentityCheck.Result.VERIFIED:
        return identity_check, None
    record(
        "helpdesk.action_refused",
        customer_id=customer.pk,
        operator_id=operator.pk,
        action=action,
        identity_check_id=identity_check.pk,
        why="identity_not_verified",
    )
    message = _(
        "本人確認ができなかったため、お手続きは行いませんでした（本人確認の記録は保存しました）。"
    )
    if identity_check.secret_answer_ok is False:
        message = _(
            "追加認証の回答が正しくないため、本人確認ができませんでした。"
            "お手続きは行いませんでした（本人確認の記録は保存しました）。"
        )
    return identity_check, ActionOutcome(False, message, identity_check=identity_check)


def _lock_customer(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


T = TypeVar("T")


@dataclass(frozen=True)
class _Acted:
    """What a console action did: the fields of its audit record, what its outcome
    carries, and the customer's notice (queued after the audit record)."""

    audit: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    lift_request: LiftRequest | None = None
    notice: Callable[[], None] | None = None


def _done(
    event: str,
    acted: _Acted,
    *,
    customer: Customer,
    operator: User,
    ip: str | None,
    reason: str,
    **check: int,
) -> None:
    """What every console action does last, in its transaction: audit ``event`` with
    what it did (and the identity check, where it needs one) and the reason, then
    queue the customer's notice."""
    record(
        event,
        customer_id=customer.pk,
        operator_id=operator.pk,
        ip=ip,
        **acted.audit,
        **check,
        reason=reason,
    )
    if acted.notice is not None:
        acted.notice()


def _console_action(
    *,
    customer: Customer,
    operator: User,
    reason: str,
    check: IdentityCheckInput,
    ip: str | None,
    purpose: str,
    action: str,
    event: str,
    ready: Callable[[Customer], T],
    act: Callable[[Customer, T, IdentityCheck, str], _Acted],
    check_input: Callable[[], None] | None = None,
) -> ActionOutcome:
    """A helpdesk action on a customer's behalf, always the same way: the operator and
    the reason and identity-check input (and ``check_input``) are checked, then in one
    transaction the
    customer row is locked, ``ready(locked)`` checks the action applies (ActionError if
    not, nothing written), the identity check is recorded (a refusal is returned, its
    record kept), ``act`` does the action, and ``event`` is audited with the check and
    the reason."""
    _require_operator(operator)
    text = _clean_reason(reason)
    _validate_check(check)
    if check_input is not None:
        check_input()
    with transaction.atomic():
        locked = _lock_customer(customer)
        target = ready(locked)
        identity_check, refused = _identity_checked(
            customer=locked,
            operator=operator,
            purpose=purpose,
            action=action,
            check=check,
            ip=ip,
        )
        if refused is not None:
            return refused
        acted = act(locked, target, identity_check, text)
        _done(
            event,
            acted,
            customer=locked,
            operator=operator,
            ip=ip,
            reason=text,
            identity_check_id=identity_check.pk,
        )
    return ActionOutcome(
        True, identity_check=identity_check, lift_request=acted.lift_request, counts=acted.counts
    )


# --- viewing ------------------------------------------------------------------------


def customer_viewed(*, customer: Customer, operator: User, ip: str | None) -> None:
    """Opening a customer's page is access to personal data: it is recorded."""
    _require_operator(operator)
    record("helpdesk.customer_viewed", customer_id=customer.pk, operator_id=operator.pk, ip=ip)


def customers_searched(*, operator: User, query: str, found: int, ip: str | None) -> None:
    _require_operator(operator)
    text = URL_RE.sub("[url]", " ".join(query.split()))[:100]
    record("helpdesk.search", operator_id=operator.pk, ip=ip, query=text, found=found)


# --- 緊急利用停止 ---------------------------------------------------------------------


def emergency_suspend(
    *, customer: Customer, operator: User, reason: str, ip: str | None
) -> SuspendOutcome:
    """緊急利用停止 by the helpdesk: no identity check (stopping is always safe; the 24 h
    line stops first and asks later), but a reason."""
    _require_operator(operator)
    text = _clean_reason(reason)
    with transaction.atomic():
        outcome = customer_suspend(
            customer=customer,
            source=SOURCE_HELPDESK,
            reason=text,
            operator_id=operator.pk,
            ip=ip,
        )
        record(
            "helpdesk.emergency_suspend",
            customer_id=customer.pk,
            operator_id=operator.pk,
            ip=ip,
            reason=text,
            suspended_now=outcome.suspended_now,
            **outcome.counts,
        )
    return outcome


# --- 利用再開 (four eyes) -------------------------------------------------------------


def lift_request(
    *,
    customer: Customer,
    operator: User,
    reason: str,
    token_action: str,
    check: IdentityCheckInput,
    ip: str | None,
) -> ActionOutcome:
    """Ask for 利用再開. Another supervisor must approve (``lift_approve``)."""

    def check_input() -> None:
        if token_action not in LiftRequest.TokenAction.values:
            raise ActionError(_("トークンの扱いを選択してください。"))

    def ready(locked: Customer) -> None:
        if locked.status != Customer.Status.SUSPENDED:
            raise ActionError(_("このお客さまは停止されていません。"))
        if LiftRequest.objects.filter(customer=locked, state=LiftRequest.State.PENDING).exists():
            raise ActionError(_("このお客さまには承認待ちの再開申請があります。"))

    def act(locked: Customer, target: None, identity_check: IdentityCheck, text: str) -> _Acted:
        try:
            with transaction.atomic():
                request = LiftRequest.objects.create(
                    customer=locked,
                    requested_by=operator,
                    requested_at=clock.now(),
                    reason=text,
                    identity_check=identity_check,
                    token_action=token_action,
                )
        except IntegrityError:
            raise ActionError(_("このお客さまには承認待ちの再開申請があります。")) from None
        return _Acted(
            audit={"lift_request_id": request.pk, "after_lift": token_action},
            lift_request=request,
        )

    return _console_action(
        customer=customer,
        operator=operator,
        reason=reason,
        check=check,
        ip=ip,
        purpose=PURPOSE_LIFT,
        action="lift_request",
        event="helpdesk.lift_requested",
        check_input=check_input,
        ready=ready,
        act=act,
    )


def _pending_request(request_id: int) -> tuple[Customer, LiftRequest]:
    """Lock the customer row, then the request (the usual order)."""
    customer_id = (
        LiftRequest.objects.filter(pk=request_id).values_list("customer_id", flat=True).first()
    )
    if customer_id is None:
        raise ActionError(_("再開申請が見つかりません。"))
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    request = LiftRequest.objects.select_for_update().get(pk=request_id)
    if request.state != LiftRequest.State.PENDING:
        raise ActionError(_("この再開申請は、すでに処理されています。"))
    return customer, request


def lift_approve(*, request_id: int, supervisor: User, note: str, ip: str | None) -> ActionOutcome:
    """Approve 利用再開: only a supervisor, never the operator who asked."""
    _require_supervisor(supervisor)
    text = _clean_reason(note)
    with transaction.atomic():
        customer, request = _pending_request(request_id)
        if request.requested_by_id == supervisor.pk:
            raise ActionError(
                _("ご自身が申請した再開は承認できません。別のスーパーバイザーが承認します。")
            )
        ttl = timedelta(seconds=console_int("lift_request_ttl_seconds"))
        if request.requested_at + ttl < clock.now():
            raise ActionError(
                _("この再開申請は有効期限が切れています。本人確認からやり直してください。")
            )
        if customer.status != Customer.Status.SUSPENDED:
            raise ActionError(_("このお客さまは停止されていません。"))
        customer_reactivate(
            customer=customer, requested_by=request.requested_by_id, approved_by=supervisor.pk
        )
        if request.token_action == LiftRequest.TokenAction.RESUME:
            resumed = tokens_resume(customer=customer, operator_id=supervisor.pk)
            revoked = 0
        else:
            resumed = 0
            revoked = tokens_revoke(
                customer=customer, operator_id=supervisor.pk, reason="lift_without_token"
            )
        _decide(request, state=LiftRequest.State.APPROVED, supervisor=supervisor, note=text)
        record(
            "helpdesk.lift_approved",
            customer_id=customer.pk,
            operator_id=supervisor.pk,
            ip=ip,
            lift_request_id=request.pk,
            requested_by=request.requested_by_id,
            identity_check_id=request.identity_check_id,
            after_lift=request.token_action,
            resumed_token_count=resumed,
            tokens_revoked=revoked,
            reason=text,
        )
        lifted_notice_enqueue(customer=customer, tokens_resumed=resumed > 0)
    return ActionOutcome(True, lift_request=request)


def _decide(request: LiftRequest, *, state: str, supervisor: User, note: str) -> None:
    """Record a supervisor's decision on a 利用再開 request."""
    request.state = state
    request.decided_by = supervisor
    request.decided_at = clock.now()
    request.decision_note = note
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])


def lift_reject(*, request_id: int, supervisor: User, note: str, ip: str | None) -> ActionOutcome:
    """Reject 利用再開 (a supervisor other than the one who asked)."""
    _require_supervisor(supervisor)
    text = _clean_reason(note)
    with transaction.atomic():
        customer, request = _pending_request(request_id)
        if request.requested_by_id == supervisor.pk:
            raise ActionError(_("ご自身の申請は「取下げ」を使ってください。"))
        _decide(request, state=LiftRequest.State.REJECTED, supervisor=supervisor, note=text)
        record(
            "helpdesk.lift_rejected",
            customer_id=customer.pk,
            operator_id=supervisor.pk,
            ip=ip,
            lift_request_id=request.pk,
            requested_by=request.requested_by_id,
            reason=text,
        )
    return ActionOutcome(True, lift_request=request)


def lift_withdraw(*, request_id: int, operator: User, note: str, ip: str | None) -> ActionOutcome:
    """The operator who asked takes the request back."""
    _require_operator(operator)
    text = _clean_reason(note)
    with transaction.atomic():
        customer, request = _pending_request(request_id)
        if request.requested_by_id != operator.pk:
            raise ActionError(_("取下げは申請したオペレーターのみ行えます。"))
        request.state = LiftRequest.State.WITHDRAWN
        request.decision_note = text
        request.save(update_fields=["state", "decision_note"])
        record(
            "helpdesk.lift_withdrawn",
            customer_id=customer.pk,
            operator_id=operator.pk,
            ip=ip,
            lift_request_id=request.pk,
            reason=text,
        )
    return ActionOutcome(True, lift_request=request)


# --- unlock, token reset, token mail --------------------------------------------------


def lockout_unlock(
    *,
    customer: Customer,
    counter_id: int,
    operator: User,
    reason: str,
    check: IdentityCheckInput,
    ip: str | None,
) -> ActionOutcome:
    """Lift one of the customer's lockouts (``customers.lockout.lockout_clear``)."""

    def ready(locked: Customer) -> FailureCounter:
        counter = (
            FailureCounter.objects.select_for_update()
            .filter(pk=counter_id, subject=lockout.subject_for_customer(locked))
            .first()
        )
        if counter is None:
            raise ActionError(_("対象のロックが見つかりません。"))
        if (
            not counter.permanently_locked
            and counter.locked_until is None
            and not (counter.consecutive_failures)
        ):
            raise ActionError(_("このロックは、すでに解除されています。"))
        return counter

    def act(locked: Customer, counter: FailureCounter, *ignored: Any) -> _Acted:
        lockout.lockout_clear(kind=counter.kind, subject=counter.subject, operator_id=operator.pk)
        label = KIND_LABELS.get(counter.kind, counter.kind)
        return _Acted(
            audit={"kind": counter.kind},
            notice=lambda: helpdesk_action_notice_enqueue(
                customer=locked, what=f"{label}のロック解除"
            ),
        )

    return _console_action(
        customer=customer,
        operator=operator,
        reason=reason,
        check=check,
        ip=ip,
        purpose=PURPOSE_UNLOCK,
        action="unlock",
        event="helpdesk.lockout_unlocked",
        ready=ready,
        act=act,
    )


def token_reset(
    *,
    customer: Customer,
    operator: User,
    reason: str,
    check: IdentityCheckInput,
    ip: str | None,
) -> ActionOutcome:
    """Lost phone: every token in use, suspended or pending ends (REVOKED/VOIDED). The
    customer then logs in with ID and password and issues a new token (leaflet Step 1)."""

    def ready(locked: Customer) -> None:
        if tokens_resettable(customer=locked) == 0:
            raise ActionError(_("失効させるトークンがありません。"))

    def act(locked: Customer, target: None, *ignored: Any) -> _Acted:
        ended = tokens_revoke(customer=locked, operator_id=operator.pk, reason="lost_phone")
        return _Acted(
            audit={"tokens_revoked": ended},
            counts={"tokens_revoked": ended},
            notice=lambda: helpdesk_action_notice_enqueue(
                customer=locked,
                what="ワンタイムパスワード（トークン）の失効（携帯電話の紛失など）",
                detail=(
                    "これまでのトークンは使えなくなりました。次回はログインID・ログインパスワードで"
                    "ログインし、「各種お申込・手続き」＞「ワンタイムパスワード」から"
                    "「トークン発行」のお手続きを行ってください。"
                ),
            ),
        )

    return _console_action(
        customer=customer,
        operator=operator,
        reason=reason,
        check=check,
        ip=ip,
        purpose=PURPOSE_TOKEN_RESET,
        action="token_reset",
        event="helpdesk.token_reset",
        ready=ready,
        act=act,
    )


def token_mail_resend(
    *,
    customer: Customer,
    operator: User,
    reason: str,
    check: IdentityCheckInput,
    ip: str | None,
) -> ActionOutcome:
    """Send the token mail (サービスID, ユーザID, download URL) of the pending issue again,
    to the address the customer gave at the issue."""

    def ready(locked: Customer) -> Token:
        if locked.status != Customer.Status.ACTIVE:
            raise ActionError(_("停止中のお客さまには送信できません。"))
        token = token_mail_pending(customer=locked)
        if token is None:
            raise ActionError(
                _("再送できるトークン発行がありません（未発行、設定済み、または期限切れです）。")
            )
        return token

    def act(locked: Customer, token: Token, *ignored: Any) -> _Acted:
        otp_mails.token_mail_enqueue(token=token)
        return _Acted(audit={"token_id": token.pk, "user_id": token.user_id})

    return _console_action(
        customer=customer,
        operator=operator,
        reason=reason,
        check=check,
        ip=ip,
        purpose=PURPOSE_TOKEN_MAIL,
        action="token_mail_resend",
        event="helpdesk.token_mail_resent",
        ready=ready,
        act=act,
    )


# --- passkeys -----------------------------------------------------------------------


def passkey_revoke(
    *, customer: Customer, passkey_id: int, operator: User, reason: str, ip: str | None
) -> ActionOutcome:
    """Revoke one of the customer's passkeys (a lost phone, a passkey the customer does
    not recognise). Like the suspension it only takes access away, so it needs a reason
    but no identity check; the customer is mailed. The passkeys service marks the
    passkey revoked (it can no longer log in or confirm anything)."""
    _require_operator(operator)
    text = _clean_reason(reason)
    with transaction.atomic():
        locked = _lock_customer(customer)
        target = next((p for p in passkeys.passkeys_of(locked) if p.pk == passkey_id), None)
        if target is None:
            raise ActionError(_("対象のパスキーが見つかりません（すでに失効しています）。"))
        passkeys.revoke(operator=operator, passkey_id=target.pk, reason=text)
        name = target.name
        _done(
            "helpdesk.passkey_revoked",
            _Acted(
                audit={"passkey_id": target.pk},
                notice=lambda: helpdesk_action_notice_enqueue(
                    customer=locked,
                    what=f"パスキー「{name}」の失効",
                    detail=(
                        "このパスキーでは、ログインもお取引の確認もできなくなりました。"
                        "パスキーは「各種お申込・手続き」＞「パスキー」から、"
                        "あらためて登録できます。"
                    ),
                ),
            ),
            customer=locked,
            operator=operator,
            ip=ip,
            reason=text,
        )
    return ActionOutcome(True)


def login_recovery(
    *,
    customer: Customer,
    operator: User,
    reason: str,
    check: IdentityCheckInput,
    ip: str | None,
) -> ActionOutcome:
    """パスキーを使わないログインの許可: with NETBANK_PASSKEY_REQUIRED, a customer who has
    a passkey but cannot use it (the phone is being repaired, say) may log in once with
    ID + password + OTP. Like the other recoveries (ロック解除, トークンの失効) it needs a
    verified identity check; the grant is single-use and expires after 24 hours
    (``customers.login_policy``), and the customer is mailed. The session it opens still
    cannot confirm transfers with a 取引認証番号 (the passkey stays required for that);
    to stop using a lost passkey, revoke it instead."""

    def ready(locked: Customer) -> None:
        if locked.status != Customer.Status.ACTIVE:
            raise ActionError(_("停止中のお客さまには許可できません（先に利用再開が必要です）。"))
        if not passkeys.passkey_required_for(locked):
            raise ActionError(
                _("このお客さまは、パスキーがなくてもワンタイムパスワードでログインできます。")
            )

    def act(locked: Customer, target: None, *ignored: Any) -> _Acted:
        grant = login_recovery_grant(customer=locked, operator_id=operator.pk)
        return _Acted(
            audit={"recovery_id": grant.pk, "expires_at": grant.expires_at.isoformat()},
            notice=lambda: helpdesk_action_notice_enqueue(
                customer=locked,
                what="パスキーを使わないログインの許可（1回・24時間以内）",
                detail=(
                    "次の1回に限り、ログインID・ログインパスワード・ワンタイムパスワードで"
                    "ログインできます。お心当たりのない場合は、ただちにヘルプデスクへ"
                    "ご連絡ください。"
                ),
            ),
        )

    return _console_action(
        customer=customer,
        operator=operator,
        reason=reason,
        check=check,
        ip=ip,
        purpose=PURPOSE_LOGIN_RECOVERY,
        action="login_recovery",
        event="helpdesk.login_recovery",
        ready=ready,
        act=act,
    )
