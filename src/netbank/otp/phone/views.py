"""Smartphone screens of the OTP journey (leaflet part 2).

A smartphone login (User-Agent, ``netbank.web.device``; the display switch plays no
part) of a customer without OTP goes straight to ワンタイムパスワード利用申請, screen ID
SLI012. 確定する issues the token through the same service as the PC journey (same
mail, same notice); 中止する returns to the top page, and SLI012 comes back at the next
phone login until OTP is in use. When the bank makes OTP mandatory
(``NETBANK_OTP["mandatory"]``), the phone is not logged in while SLI012 is shown: the
session holds only this application, 中止する logs out, and the customer gets in once
the app's Directログイン completes 利用開始.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from netbank import clock
from netbank.audit.services import record
from netbank.customers import lockout
from netbank.customers import session as customer_session
from netbank.customers.messages import form_refuse_if_locked
from netbank.customers.models import Customer, SecretQuestion
from netbank.customers.services import secret_question_pick
from netbank.otp.models import Token
from netbank.otp.phone.forms import PhoneApplyForm
from netbank.otp.phone.services import token_issue_phone
from netbank.otp.tokens import confinement, selectors, services
from netbank.web.client_address import client_address

# The application in progress: {"customer_id", "logged_in", "forced", "question_id",
# "done_token_id", and while not logged in "security_counter", "started_at", "touched_at"}.
PHONE_APPLY = "otp_phone_apply"
SCREEN_ID = "SLI012"


def _mandatory() -> bool:
    return bool(settings.NETBANK_OTP.get("mandatory"))


def _confined(request: HttpRequest) -> bool:
    return getattr(request, "otp_setup_only", confinement.NONE) != confinement.NONE


def _ended_reason(request: HttpRequest) -> str:
    """Why there is no applicant: the session middleware's reason (idle, expired, …),
    else the unfinished login timed out."""
    return str(getattr(request, "session_end_reason", None) or "pending")


def _login_url(reason: str) -> str:
    return reverse("customers:login") + f"?ended={reason}"


def phone_apply_begin(request: HttpRequest, customer: Customer) -> HttpResponse:
    """The login's OTP step hands a phone without OTP over to SLI012.

    Called once ID and password have passed. Unless OTP is mandatory the customer is
    logged in (the top page is one 中止する away); if it is, the session rotates and
    holds only this application, which grants nothing else.
    """
    if _mandatory():
        request.session.cycle_key()
        request.session.pop(customer_session.PENDING, None)
        now = clock.timestamp()
        request.session[PHONE_APPLY] = {
            "customer_id": customer.pk,
            "security_counter": customer.security_counter,
            "logged_in": False,
            "forced": True,
            "started_at": now,
            "touched_at": now,
        }
    else:
        customer_session.session_login(request, customer)
        request.session[PHONE_APPLY] = {
            "customer_id": customer.pk,
            "logged_in": True,
            "forced": True,
        }
    return redirect("otp:phone_apply")


def _applicant(request: HttpRequest) -> tuple[Customer, dict[str, Any]] | None:
    """Who is applying: the logged-in customer, or (OTP mandatory) the customer whose
    ID and password passed on this session, within the session's idle and absolute
    limits and while their status and security counter are unchanged."""
    state = request.session.get(PHONE_APPLY)
    if not isinstance(state, dict):
        state = None
    customer = cast(Customer | None, getattr(request, "customer", None))
    if customer is not None:
        if state is None or state.get("customer_id") != customer.pk:
            state = {"customer_id": customer.pk, "logged_in": True, "forced": False}
        state["logged_in"] = True
        return customer, state
    if state is None or state.get("logged_in") is not False:
        return None
    now = clock.timestamp()
    try:
        started = float(state["started_at"])
        touched = float(state["touched_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if (
        now - touched > settings.NETBANK_SESSION_IDLE_SECONDS
        or now - started > settings.NETBANK_SESSION_ABSOLUTE_SECONDS
    ):
        return None
    customer_id = state.get("customer_id")
    if not isinstance(customer_id, int):
        return None
    pending = Customer.objects.filter(pk=customer_id).first()
    if (
        pending is None
        or pending.status != Customer.Status.ACTIVE
        or pending.security_counter != state.get("security_counter")
    ):
        return None
    state["touched_at"] = now
    return pending, state


def _question(customer: Customer, state: dict[str, Any]) -> SecretQuestion | None:
    """The 追加認証 question of this application (fixed until answered correctly)."""
    question_id = state.get("question_id")
    if isinstance(question_id, int):
        question = SecretQuestion.objects.filter(pk=question_id, customer=customer).first()
        if question is not None:
            return question
    question = secret_question_pick(customer=customer)
    state["question_id"] = question.pk if question is not None else None
    return question


def _no_question_message() -> str:
    return _(
        "追加認証の質問が登録されていないため、お手続きできません。"
        "お手数ですが、ヘルプデスクへご連絡ください。"
    )


def _end(request: HttpRequest) -> HttpResponse:
    """Leave SLI012 for the login screen: the session ends."""
    customer_session.session_logout(request)
    return redirect(_login_url("logout"))


def _decline(request: HttpRequest, customer: Customer, state: dict[str, Any]) -> HttpResponse:
    """中止する: the top page, or (OTP mandatory, or not logged in) the login screen."""
    request.session.pop(PHONE_APPLY, None)
    mandatory = _mandatory()
    record(
        "otp.phone_apply_declined",
        customer_id=customer.pk,
        ip=client_address(request),
        mandatory=mandatory,
    )
    if mandatory or not state.get("logged_in"):
        return _end(request)
    return redirect("customers:top")


def _back(request: HttpRequest, state: dict[str, Any]) -> HttpResponse:
    """戻る: back to the screen before SLI012. After a login that is the login screen
    (the session ends), as it is whenever OTP is mandatory (nothing else is open to a
    customer without it); otherwise the top page."""
    request.session.pop(PHONE_APPLY, None)
    if _mandatory() or state.get("forced") or not state.get("logged_in"):
        return _end(request)
    return redirect("customers:top")


def _leave_when_in_use(request: HttpRequest, state: dict[str, Any]) -> HttpResponse:
    request.session.pop(PHONE_APPLY, None)
    if state.get("logged_in"):
        return redirect("customers:top")
    return _end(request)


@never_cache
@require_http_methods(["GET", "POST"])
def phone_apply_view(request: HttpRequest) -> HttpResponse:
    """ワンタイムパスワード利用申請 (SLI012)."""
    applicant = _applicant(request)
    if applicant is None:
        request.session.pop(PHONE_APPLY, None)
        return redirect(_login_url(_ended_reason(request)))
    customer, state = applicant
    if selectors.token_in_use(customer) is not None:
        return _leave_when_in_use(request, state)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "cancel":
        return _decline(request, customer, state)
    if action == "back":
        return _back(request, state)

    question = _question(customer, state)
    form = PhoneApplyForm(
        request.POST if request.method == "POST" else None, ask_answer=question is not None
    )
    status = 200
    if request.method == "POST":
        status = 400
        if question is None:
            form.add_error(None, _no_question_message())
        elif form.is_valid():
            try:
                outcome = token_issue_phone(
                    customer=customer,
                    email=form.cleaned_data["email"],
                    activation_password=form.cleaned_data["activation_password"],
                    question_id=question.pk,
                    answer=form.cleaned_data["answer"],
                    ip=client_address(request),
                )
            except services.TokenError:
                request.session.pop(PHONE_APPLY, None)
                return render(
                    request,
                    "otp/message.html",
                    {
                        "message": _(
                            "ただいまトークンを発行できません。ヘルプデスクへご連絡ください。"
                        )
                    },
                    status=409,
                )
            if outcome.ok and outcome.token is not None:
                state.pop("question_id", None)
                state["done_token_id"] = outcome.token.pk
                request.session[PHONE_APPLY] = state
                return redirect("otp:phone_apply_done")
            if outcome.message:
                form.add_error(None, outcome.message)
            for field, message in (outcome.field_errors or {}).items():
                form.add_error(field, message)
            if outcome.stale_question:
                state.pop("question_id", None)
                question = _question(customer, state)
    request.session[PHONE_APPLY] = state
    pending = selectors.token_pending(customer)
    if pending is not None and pending.expires_at <= clock.now():
        pending = None
    if question is not None:
        form_refuse_if_locked(form, customer, lockout.SECRET_ANSWER)
    return render(
        request,
        "otp/phone/apply.html",
        {
            "form": form,
            "question": _(question.question) if question is not None else "",
            "no_question": question is None,
            "pending": pending,
            "logged_in": bool(state.get("logged_in")),
            "screen_id": SCREEN_ID,
            "mail_from": settings.NETBANK_MAIL_FROM,
        },
        status=status,
    )


@never_cache
@require_GET
def phone_apply_done_view(request: HttpRequest) -> HttpResponse:
    """ワンタイムパスワード利用申請（完了）: the mail is on its way; what to do next."""
    applicant = _applicant(request)
    if applicant is None:
        return redirect(_login_url(_ended_reason(request)))
    customer, state = applicant
    token_id = state.get("done_token_id")
    token = (
        Token.objects.filter(pk=token_id, customer=customer).first()
        if isinstance(token_id, int)
        else None
    )
    if token is None:
        return redirect("otp:phone_apply")
    # A session confined to the OTP application (OTP mandatory) has nothing left to do
    # here either: 利用開始 comes with the app's Directログイン.
    logged_in = bool(state.get("logged_in")) and not _confined(request)
    response = render(
        request,
        "otp/phone/apply_done.html",
        {
            "token": token,
            "logged_in": logged_in,
            "service_id": settings.NETBANK_OTP["service_id"],
            "mail_from": settings.NETBANK_MAIL_FROM,
            "screen_id": SCREEN_ID,
        },
    )
    if not logged_in:
        # Nothing else is open to this session: the application ends with this page.
        customer_session.session_logout(request)
    return response


@require_GET
def phone_guide_view(request: HttpRequest) -> HttpResponse:
    """こちらをお読みください: the leaflet's guide to OTP on a smartphone."""
    # The helpdesk footer comes from the context processor, in the page's language.
    return render(request, "otp/phone/guide.html", {"mail_from": settings.NETBANK_MAIL_FROM})
