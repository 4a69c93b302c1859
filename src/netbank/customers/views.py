"""Customer login, top menu, 各種お申込・手続き, 追加認証の登録・変更, logout and the
session endpoints. Thin: rules live in services, input rules in forms/validators.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from netbank.customers import lockout
from netbank.customers import session as customer_session
from netbank.customers.decorators import customer_required
from netbank.customers.forms import LoginForm, SecretQuestionsForm
from netbank.customers.messages import form_refuse_if_locked
from netbank.customers.middleware import idle_seconds_left
from netbank.customers.models import Customer, SecretQuestion
from netbank.customers.services import LoginResult, login_check_password, secret_questions_change
from netbank.web.client_address import client_address
from netbank.web.forms import form_refuse

# The top menu. An entry whose URL name does not exist yet shows 準備中, so each
# service appears in the menu as soon as its app routes it.
TOP_MENU = (
    ("banking:balance", _lazy("残高照会")),
    ("banking:furikomi", _lazy("振込")),
    ("banking:furikae", _lazy("振替")),
    ("customers:procedures", _lazy("各種お申込・手続き")),
)

# Why a session ended, as the login page explains it (?ended=…).
END_REASONS = frozenset(
    {"idle", "expired", "logout", "suspended", "revoked", "pending", "otp_in_use"}
)


def passkey_login_urls() -> dict[str, str] | None:
    """The passkey login's URLs for the login page (conditional UI and the button), or
    None where no passkey app is installed: customers names them, never imports them."""
    try:
        return {
            "options": reverse("passkeys:login_options"),
            "login": reverse("passkeys:login"),
        }
    except NoReverseMatch:
        return None


def _customer(request: HttpRequest) -> Customer:
    customer: Customer = request.customer  # type: ignore[attr-defined]
    return customer


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if getattr(request, "customer", None) is not None:
        return redirect("customers:top")
    form = LoginForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            outcome = login_check_password(
                login_id=form.cleaned_data["login_id"],
                password=form.cleaned_data["password"],
                ip=client_address(request),
            )
            if outcome.customer is not None:
                # The OTP step decides whether this customer needs a second factor.
                customer_session.session_begin_pending(request, outcome.customer)
                return redirect("otp:login_otp")
            if outcome.result is LoginResult.THROTTLED:
                status = 429
            if outcome.result is LoginResult.INVALID:
                form.add_error(None, outcome.message)
            else:
                # A lock, a suspension or the throttle is not about what was typed. The
                # form stays usable: a lock belongs to the ID typed, not to this browser.
                form_refuse(form, outcome.message, disable=False)
    ended_in_session = request.session.pop(customer_session.ENDED_REASON, None)
    ended = request.GET.get("ended") or ended_in_session
    return render(
        request,
        "customers/login.html",
        {
            "form": form,
            "ended": ended if ended in END_REASONS else None,
            "passkey_login": passkey_login_urls(),
        },
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    customer_session.session_logout(request)
    return redirect(reverse("customers:login") + "?ended=logout")


@never_cache
@customer_required
def top_view(request: HttpRequest) -> HttpResponse:
    menu = [{"label": label, "url": reverse(name)} for name, label in TOP_MENU]
    return render(request, "customers/top.html", {"menu": menu})


# 各種お申込・手続き beyond the OTP and the customer's own settings, in menu order. Named,
# not imported (customers knows no other app): an entry whose app is not installed is
# left out.
PROCEDURES_MENU = (
    ("passkeys:list", _lazy("パスキー")),
    ("banking:payees", _lazy("登録先")),
    ("banking:scheduled", _lazy("振込予約の照会・取消")),
    ("banking:limit", _lazy("振込限度額")),
)


def _routed(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@never_cache
@customer_required
def procedures_view(request: HttpRequest) -> HttpResponse:
    """各種お申込・手続き: the bank's services where their apps route them."""
    menu = [
        {"label": label, "url": url}
        for name, label in PROCEDURES_MENU
        if (url := _routed(name)) is not None
    ]
    return render(request, "customers/procedures.html", {"menu": menu})


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def secret_questions_view(request: HttpRequest) -> HttpResponse:
    """追加認証の質問の登録・変更, confirmed with the 確認用パスワード."""
    customer = _customer(request)
    current = {q.position: q.question for q in SecretQuestion.objects.filter(customer=customer)}
    form = SecretQuestionsForm(request.POST if request.method == "POST" else None, current=current)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                outcome = secret_questions_change(
                    customer=customer,
                    transaction_password=form.cleaned_data["transaction_password"],
                    entries=form.cleaned_data["entries"],
                    ip=client_address(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if outcome.ok:
                    return redirect("customers:secret_questions_done")
                if outcome.locked:
                    form.add_error(None, outcome.message)
                else:
                    form.add_error("transaction_password", outcome.message)
    form_refuse_if_locked(form, customer, lockout.TRANSACTION_PASSWORD)
    return render(
        request,
        "customers/secret_questions.html",
        {"form": form, "current": current},
        status=status,
    )


@never_cache
@customer_required
def secret_questions_done_view(request: HttpRequest) -> HttpResponse:
    questions = SecretQuestion.objects.filter(customer=_customer(request))
    return render(request, "customers/secret_questions_done.html", {"questions": questions})


@never_cache
@require_GET
def session_status_view(request: HttpRequest) -> JsonResponse:
    """How long the session has left. Does not count as activity (see middleware)."""
    if getattr(request, "customer", None) is None:
        url = reverse("customers:login")
        reason = getattr(request, "session_end_reason", None)
        if reason:
            url += f"?ended={reason}"
        return JsonResponse({"authenticated": False, "login_url": url})
    return JsonResponse({"authenticated": True, "idle_seconds_left": idle_seconds_left(request)})


@require_POST
@customer_required
def session_extend_view(request: HttpRequest) -> HttpResponse:
    """延長する: the request itself counts as activity (middleware); then go back.

    Back to ``next`` if given, else to the page the button was on (the same-origin
    Referer), never off the site.
    """
    nxt = request.POST.get("next") or ""
    if not nxt:
        referer = urlsplit(request.META.get("HTTP_REFERER", ""))
        if referer.netloc == request.get_host():
            nxt = urlunsplit(("", "", referer.path, referer.query, ""))
    if not (
        nxt.startswith("/")
        and url_has_allowed_host_and_scheme(
            nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        nxt = reverse("customers:top")
    return redirect(nxt)
