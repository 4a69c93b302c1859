"""The operator console. Thin: forms parse, services act, selectors read.

Every page answers bad input with the form and a clear message (status 400), never
a 500; every state change is a POST with its CSRF token, redirected afterwards to the
customer page with a short result code (so a reload does not act twice).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from netbank import clock
from netbank.audit.models import AuditRecord
from netbank.audit.services import record
from netbank.customers.login_policy import login_recovery_pending
from netbank.customers.models import Customer, FailureCounter
from netbank.customers.notices import KIND_LABELS
from netbank.customers.services import secret_question_pick
from netbank.helpdesk import selectors, services
from netbank.helpdesk.decorators import (
    LAST_ACTIVITY,
    LOGIN_AT,
    operator_required,
    supervisor_required,
)
from netbank.helpdesk.forms import (
    DecisionForm,
    IdentityCheckForm,
    LiftRequestForm,
    OperatorLoginForm,
    ReasonForm,
    SearchForm,
    SuspendForm,
)
from netbank.helpdesk.models import LiftRequest, OperatorCredential
from netbank.helpdesk.operators import (
    GROUP_OPERATOR,
    GROUP_SUPERVISOR,
    ROLE_SUPERVISOR,
    OperatorError,
    operator_login_check,
    operator_unlock,
)
from netbank.otp.tokens.suspension import token_mail_pending, tokens_resettable
from netbank.passkeys.models import Passkey
from netbank.passkeys.services import passkey_required_for
from netbank.web.client_address import client_address

# Result codes after an action (?done=...), and what the customer page says.
DONE_MESSAGES = {
    "suspended": _lazy("緊急利用停止を行いました。お客さまのセッションはすべて終了します。"),
    "already_suspended": _lazy("このお客さまは、すでに停止されています。"),
    "lift_requested": _lazy("利用再開を申請しました。別のスーパーバイザーの承認を待っています。"),
    "lift_approved": _lazy("利用再開を承認しました。お客さまへお知らせを送信しました。"),
    "lift_rejected": _lazy("利用再開の申請を却下しました。"),
    "lift_withdrawn": _lazy("利用再開の申請を取り下げました。"),
    "unlocked": _lazy("ロックを解除しました。お客さまへお知らせを送信しました。"),
    "token_reset": _lazy("トークンを失効させました。お客さまへお知らせを送信しました。"),
    "token_mail": _lazy("トークン発行メールを再送しました。"),
    "passkey_revoked": _lazy("パスキーを失効させました。お客さまへお知らせを送信しました。"),
    "login_recovery": _lazy(
        "パスキーを使わないログインを1回許可しました（24時間以内）。お客さまへお知らせを送信しました。"
    ),
}
ENDED_MESSAGES = {
    "idle": _lazy("一定時間操作がなかったため、ログアウトしました。"),
    "expired": _lazy("ログインの有効時間を過ぎたため、ログアウトしました。"),
    "revoked": _lazy("このアカウントではコンソールを利用できません。"),
    "mixed": _lazy(
        "お客さまのログイン情報と混在したため、ログアウトしました。もう一度ログインしてください。"
    ),
    "logout": _lazy("ログアウトしました。"),
}
CHANNEL_LABELS = {
    "web": _lazy("ブラウザ"),
    "direct": _lazy("Directログイン"),
    "passkey": _lazy("パスキー"),
}
TOKEN_STATE_LABELS = {
    "issued": _lazy("発行済み（アプリの設定待ち）"),
    "activated": _lazy("設定済み（利用開始待ち）"),
    "in_use": _lazy("利用中"),
    "suspended": _lazy("停止中"),
    "revoked": _lazy("失効"),
    "voided": _lazy("取消"),
    "expired": _lazy("期限切れ"),
}
# Who stopped the customer's banking, as the 状態 row says it.
SUSPENSION_SOURCE_LABELS = {
    "helpdesk": _lazy("ヘルプデスクが停止"),
    "customer_link": _lazy("お客さまがメールの停止リンクから停止"),
    "customer_web": _lazy("お客さまがログイン後の画面から停止"),
}
MAIL_STATUS_LABELS = {
    "pending": _lazy("送信待ち"),
    "sending": _lazy("送信中"),
    "sent": _lazy("送信済み"),
    "failed": _lazy("送信失敗"),
    "uncertain": _lazy("送信結果不明"),
}


def _suspended_by(suspension: AuditRecord | None) -> str:
    """Who suspended the customer, in words: the operator by name for the helpdesk."""
    if suspension is None:
        return ""
    data = suspension.data if isinstance(suspension.data, dict) else {}
    label = SUSPENSION_SOURCE_LABELS.get(str(data.get("source", "")))
    if label is None:
        return _("停止の受付元は記録されていません")
    if suspension.operator_id is not None:
        name = (
            User.objects.filter(pk=suspension.operator_id)
            .values_list("username", flat=True)
            .first()
        )
        return _("%(source)s（オペレーター: %(name)s）") % {
            "source": label,
            "name": name or f"#{suspension.operator_id}",
        }
    return str(label)


def _operator(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _customer_or_404(pk: int) -> Customer:
    return get_object_or_404(Customer, pk=pk)


def _done(customer: Customer, code: str) -> HttpResponse:
    return redirect(f"{reverse('helpdesk:customer', args=[customer.pk])}?done={code}")


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "operator": request.user,
        "operator_role": getattr(request, "operator_role", None),
        "is_supervisor": getattr(request, "operator_role", None) == ROLE_SUPERVISOR,
        **extra,
    }


# --- login / logout -----------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = OperatorLoginForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            outcome = operator_login_check(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
                ip=client_address(request),
            )
            if outcome.user is not None:
                # A fresh session: no customer key survives, and the key is new.
                request.session.flush()
                auth_login(
                    request, outcome.user, backend="django.contrib.auth.backends.ModelBackend"
                )
                now = clock.timestamp()
                request.session[LOGIN_AT] = now
                request.session[LAST_ACTIVITY] = now
                return redirect("helpdesk:home")
            if outcome.throttled:
                status = 429
            form.add_error(None, outcome.message)
    ended = request.GET.get("ended", "")
    return render(
        request,
        "helpdesk/login.html",
        {"form": form, "ended_message": ENDED_MESSAGES.get(ended)},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record("helpdesk.logout", operator_id=request.user.pk, ip=client_address(request))
    auth_logout(request)
    return redirect(f"{reverse('helpdesk:login')}?ended=logout")


# --- search and the customer page ---------------------------------------------------


@operator_required
@require_http_methods(["GET"])
def home_view(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET if "q" in request.GET else None)
    result = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            result = selectors.customer_search(form.cleaned_data["q"])
            services.customers_searched(
                operator=_operator(request),
                query=form.cleaned_data["q"],
                found=len(result.customers),
                ip=client_address(request),
            )
        else:
            status = 400
    return render(
        request,
        "helpdesk/home.html",
        _context(request, form=form, result=result, pending=selectors.pending_lifts()),
        status=status,
    )


@operator_required
@require_http_methods(["GET"])
def customer_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    services.customer_viewed(
        customer=customer, operator=_operator(request), ip=client_address(request)
    )
    sessions = selectors.customer_sessions(customer)
    pending = selectors.pending_lift(customer)
    operator = _operator(request)
    last_suspension = selectors.last_suspension(customer)
    return render(
        request,
        "helpdesk/customer.html",
        _context(
            request,
            customer=customer,
            suspended=customer.status == Customer.Status.SUSPENDED,
            tokens=selectors.customer_tokens(customer),
            lockouts=selectors.customer_lockouts(customer),
            kind_labels=KIND_LABELS,
            sessions=sessions,
            channel_labels=CHANNEL_LABELS,
            token_state_labels=TOKEN_STATE_LABELS,
            mail_status_labels=MAIL_STATUS_LABELS,
            logins=selectors.customer_logins(customer),
            transfers=selectors.customer_transfers(customer),
            audit=selectors.customer_audit(customer)[:30],
            mails=selectors.customer_mails(customer),
            pending=pending,
            can_decide=pending is not None
            and getattr(request, "operator_role", None) == ROLE_SUPERVISOR
            and pending.requested_by_id != operator.pk,
            can_withdraw=pending is not None and pending.requested_by_id == operator.pk,
            checks=selectors.identity_checks(customer),
            last_suspension=last_suspension,
            suspended_by=_suspended_by(last_suspension),
            purpose_labels=services.PURPOSE_LABELS,
            can_reset=tokens_resettable(customer=customer) > 0,
            can_resend=customer.status == Customer.Status.ACTIVE
            and token_mail_pending(customer=customer) is not None,
            passkeys=selectors.customer_passkeys(customer),
            passkey_required=passkey_required_for(customer),
            login_recovery=login_recovery_pending(customer),
            done=DONE_MESSAGES.get(request.GET.get("done", "")),
        ),
    )


@operator_required
@require_http_methods(["GET"])
def customer_audit_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    paginator = Paginator(selectors.customer_audit(customer), 50)
    page = paginator.get_page(request.GET.get("page"))
    record(
        "helpdesk.audit_viewed",
        customer_id=customer.pk,
        operator_id=_operator(request).pk,
        ip=client_address(request),
        page=page.number,
    )
    return render(
        request, "helpdesk/customer_audit.html", _context(request, customer=customer, page=page)
    )


# --- 緊急利用停止 ---------------------------------------------------------------------


@operator_required
@require_http_methods(["GET", "POST"])
def suspend_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    form = SuspendForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                outcome = services.emergency_suspend(
                    customer=customer,
                    operator=_operator(request),
                    reason=form.cleaned_data["reason"],
                    ip=client_address(request),
                )
            except services.ActionError as exc:
                form.add_error(None, exc.message)
            else:
                return _done(
                    customer, "suspended" if outcome.suspended_now else "already_suspended"
                )
    return render(
        request,
        "helpdesk/suspend.html",
        _context(request, customer=customer, form=form),
        status=status,
    )


# --- actions with an identity check ---------------------------------------------------


def _question(customer: Customer) -> Any:
    """The 追加認証 question to put to the caller (fixed until answered, as for the
    customer's own screens), or None if the customer registered none."""
    return secret_question_pick(customer=customer)


def _identity_page(
    request: HttpRequest,
    *,
    customer: Customer,
    form: IdentityCheckForm,
    template: str,
    status: int,
    **extra: Any,
) -> HttpResponse:
    question = _question(customer)
    if question is not None and not form.is_bound:
        form.initial["question_id"] = question.pk
    if form.is_bound:
        # Re-rendered after an error: never echo the answer; ask the current question.
        data = cast(QueryDict, form.data).copy()
        data["secret_answer"] = ""
        data["question_id"] = str(question.pk) if question is not None else ""
        form.data = data
    return render(
        request,
        template,
        _context(request, customer=customer, form=form, question=question, **extra),
        status=status,
    )


def _identity_action(
    request: HttpRequest,
    *,
    customer: Customer,
    form: IdentityCheckForm,
    template: str,
    act: Any,
    done: str,
    **extra: Any,
) -> HttpResponse:
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                outcome = act(form)
            except services.ActionError as exc:
                form.add_error(None, exc.message)
            else:
                if outcome.ok:
                    return _done(customer, done)
                form.add_error(None, outcome.message)
                status = 403
    return _identity_page(
        request, customer=customer, form=form, template=template, status=status, **extra
    )


@operator_required
@require_http_methods(["GET", "POST"])
def unlock_view(request: HttpRequest, pk: int, counter_id: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    counter = get_object_or_404(FailureCounter, pk=counter_id, subject=f"customer:{customer.pk}")
    form = IdentityCheckForm(request.POST if request.method == "POST" else None)
    return _identity_action(
        request,
        customer=customer,
        form=form,
        template="helpdesk/unlock.html",
        act=lambda f: services.lockout_unlock(
            customer=customer,
            counter_id=counter.pk,
            operator=_operator(request),
            reason=f.cleaned_data["reason"],
            check=f.identity_check(),
            ip=client_address(request),
        ),
        done="unlocked",
        counter=counter,
        kind_label=KIND_LABELS.get(counter.kind, counter.kind),
    )


@operator_required
@require_http_methods(["GET", "POST"])
def token_reset_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    form = IdentityCheckForm(request.POST if request.method == "POST" else None)
    return _identity_action(
        request,
        customer=customer,
        form=form,
        template="helpdesk/token_reset.html",
        act=lambda f: services.token_reset(
            customer=customer,
            operator=_operator(request),
            reason=f.cleaned_data["reason"],
            check=f.identity_check(),
            ip=client_address(request),
        ),
        done="token_reset",
        tokens=selectors.customer_tokens(customer),
    )


@operator_required
@require_http_methods(["GET", "POST"])
def token_mail_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    form = IdentityCheckForm(request.POST if request.method == "POST" else None)
    return _identity_action(
        request,
        customer=customer,
        form=form,
        template="helpdesk/token_mail.html",
        act=lambda f: services.token_mail_resend(
            customer=customer,
            operator=_operator(request),
            reason=f.cleaned_data["reason"],
            check=f.identity_check(),
            ip=client_address(request),
        ),
        done="token_mail",
        token=token_mail_pending(customer=customer),
    )


@operator_required
@require_http_methods(["GET", "POST"])
def lift_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    form = LiftRequestForm(request.POST if request.method == "POST" else None)
    return _identity_action(
        request,
        customer=customer,
        form=form,
        template="helpdesk/lift_request.html",
        act=lambda f: services.lift_request(
            customer=customer,
            operator=_operator(request),
            reason=f.cleaned_data["reason"],
            token_action=f.cleaned_data["token_action"],
            check=f.identity_check(),
            ip=client_address(request),
        ),
        done="lift_requested",
    )


@operator_required
@require_http_methods(["GET", "POST"])
def lift_decide_view(request: HttpRequest, request_id: int) -> HttpResponse:
    """Approve or reject (another supervisor), or withdraw (the operator who asked)."""
    lift = get_object_or_404(
        LiftRequest.objects.select_related("customer", "requested_by", "identity_check"),
        pk=request_id,
    )
    operator = _operator(request)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        action = request.POST.get("action", "")
        if action not in ("approve", "reject", "withdraw"):
            form.add_error(None, _("操作を選択してください。"))
        elif form.is_valid():
            note = form.cleaned_data["note"]
            try:
                if action == "approve":
                    services.lift_approve(
                        request_id=lift.pk,
                        supervisor=operator,
                        note=note,
                        ip=client_address(request),
                    )
                elif action == "reject":
                    services.lift_reject(
                        request_id=lift.pk,
                        supervisor=operator,
                        note=note,
                        ip=client_address(request),
                    )
                else:
                    services.lift_withdraw(
                        request_id=lift.pk, operator=operator, note=note, ip=client_address(request)
                    )
            except services.ActionError as exc:
                form.add_error(None, exc.message)
                status = 403
            else:
                done = {"approve": "lift_approved", "reject": "lift_rejected"}.get(
                    action, "lift_withdrawn"
                )
                return _done(lift.customer, done)
    return render(
        request,
        "helpdesk/lift_decide.html",
        _context(
            request,
            lift=lift,
            customer=lift.customer,
            form=form,
            own=lift.requested_by_id == operator.pk,
            identity_items=services.IDENTITY_ITEMS,
            pending=lift.state == LiftRequest.State.PENDING,
        ),
        status=status,
    )


# --- operators (supervisors) ----------------------------------------------------------


@supervisor_required
@require_http_methods(["GET"])
def operators_view(request: HttpRequest) -> HttpResponse:
    users = (
        User.objects.filter(groups__name__in=[GROUP_OPERATOR, GROUP_SUPERVISOR])
        .distinct()
        .order_by("username")
    )
    credentials = {c.user_id: c for c in OperatorCredential.objects.filter(user__in=users)}
    supervisors = set(
        User.objects.filter(groups__name=GROUP_SUPERVISOR).values_list("pk", flat=True)
    )
    rows = [
        {
            "user": u,
            "role": _("スーパーバイザー") if u.pk in supervisors else _("オペレーター"),
            "credential": credentials.get(u.pk),
        }
        for u in users
    ]
    return render(request, "helpdesk/operators.html", _context(request, rows=rows))


@supervisor_required
@require_http_methods(["GET", "POST"])
def operator_unlock_view(request: HttpRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                operator_unlock(
                    target=target, supervisor=_operator(request), reason=form.cleaned_data["reason"]
                )
            except OperatorError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(f"{reverse('helpdesk:operators')}?done=unlocked")
    return render(
        request,
        "helpdesk/operator_unlock.html",
        _context(request, target=target, form=form),
        status=status,
    )


# --- passkeys -------------------------------------------------------------------------


@operator_required
@require_http_methods(["GET", "POST"])
def passkey_revoke_view(request: HttpRequest, pk: int, passkey_id: int) -> HttpResponse:
    """パスキーの失効: a reason, no identity check (it only takes access away)."""
    customer = _customer_or_404(pk)
    passkey = get_object_or_404(Passkey, pk=passkey_id, customer=customer)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.passkey_revoke(
                    customer=customer,
                    passkey_id=passkey.pk,
                    operator=_operator(request),
                    reason=form.cleaned_data["reason"],
                    ip=client_address(request),
                )
            except services.ActionError as exc:
                form.add_error(None, exc.message)
            else:
                return _done(customer, "passkey_revoked")
    return render(
        request,
        "helpdesk/passkey_revoke.html",
        _context(request, customer=customer, passkey=passkey, form=form),
        status=status,
    )


@operator_required
@require_http_methods(["GET", "POST"])
def login_recovery_view(request: HttpRequest, pk: int) -> HttpResponse:
    """パスキーを使わないログインの許可 (one login, 24 h), after a verified identity check."""
    customer = _customer_or_404(pk)
    form = IdentityCheckForm(request.POST if request.method == "POST" else None)
    return _identity_action(
        request,
        customer=customer,
        form=form,
        template="helpdesk/login_recovery.html",
        act=lambda f: services.login_recovery(
            customer=customer,
            operator=_operator(request),
            reason=f.cleaned_data["reason"],
            check=f.identity_check(),
            ip=client_address(request),
        ),
        done="login_recovery",
    )
