"""The console's guard: only a logged-in, active, unlocked operator gets through.

Runs before every console view, so no console action can happen without an operator
(docs/architecture.md, invariant 3). It reads ``request.user`` (set only by the console
login) and never ``request.customer``. A session that also carries customer keys is
not an operator session: it is ended (one session, one principal).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from netbank import clock
from netbank.audit.services import record
from netbank.customers import session as customer_session
from netbank.helpdesk.conf import console_int
from netbank.helpdesk.models import OperatorCredential
from netbank.helpdesk.operators import ROLE_SUPERVISOR, operator_role

LOGIN_AT = "helpdesk_login_at"
LAST_ACTIVITY = "helpdesk_last_activity"
CUSTOMER_KEYS = (
    customer_session.CUSTOMER_ID,
    customer_session.PENDING,
    customer_session.SECURITY_COUNTER,
)


def _ended(request: HttpRequest, reason: str) -> HttpResponse:
    logout(request)  # flushes the session: its key can never be used again
    return redirect(f"{reverse('helpdesk:login')}?ended={reason}")


def _check(request: HttpRequest) -> HttpResponse | str:
    """The operator's role, or the response that ends the attempt."""
    if any(key in request.session for key in CUSTOMER_KEYS):
        # A customer session (or one carrying both principals) never reaches the console.
        if request.user.is_authenticated:
            return _ended(request, "mixed")
        return redirect(reverse("helpdesk:login"))
    user = request.user
    if not user.is_authenticated:
        return redirect(reverse("helpdesk:login"))
    role = operator_role(user)
    locked = OperatorCredential.objects.filter(user_id=user.pk, locked_at__isnull=False).exists()
    if role is None or locked:
        return _ended(request, "revoked")
    now = clock.timestamp()
    try:
        login_at = float(request.session.get(LOGIN_AT, 0))
        last = float(request.session.get(LAST_ACTIVITY, 0))
    except (TypeError, ValueError):
        return _ended(request, "expired")
    if now - last > console_int("idle_seconds") or last - now > 60:
        record("helpdesk.session_idle", operator_id=user.pk)
        return _ended(request, "idle")
    if now - login_at > console_int("absolute_seconds") or login_at - now > 60:
        return _ended(request, "expired")
    request.session[LAST_ACTIVITY] = now
    return role


def forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "helpdesk/message.html",
        {"title": _("権限がありません"), "message": _("この操作はスーパーバイザーのみ行えます。")},
        status=403,
    )


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        outcome = _check(request)
        if isinstance(outcome, HttpResponse):
            return outcome
        request.operator_role = outcome  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def supervisor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @operator_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "operator_role", None) != ROLE_SUPERVISOR:
            return forbidden(request)
        return view(request, *args, **kwargs)

    return wrapper
