"""The second login step: ワンタイムパスワード認証, after ID and password."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from netbank import clock
from netbank.customers import lockout
from netbank.customers import session as customer_session
from netbank.customers.messages import form_refuse_if_locked
from netbank.customers.models import Customer
from netbank.otp.phone import views as phone_views
from netbank.otp.tokens import confinement, selectors
from netbank.otp.tokens.forms import OtpCodeForm
from netbank.otp.verification import Result, otp_verify
from netbank.web.client_address import client_address
from netbank.web.device import request_is_smartphone

# A pending login (password passed, OTP not yet) lasts this long.
PENDING_SECONDS = 5 * 60


def _pending_customer(request: HttpRequest) -> Customer | None:
    pending = customer_session.session_pending(request)
    if pending is None:
        return None
    if clock.timestamp() - float(pending.get("started_at", 0)) > PENDING_SECONDS:
        return None
    customer = Customer.objects.filter(pk=int(pending.get("customer_id") or 0)).first()
    if (
        customer is None
        or customer.status != Customer.Status.ACTIVE
        or customer.security_counter != pending.get("security_counter")
    ):
        return None
    return customer


@never_cache
@require_http_methods(["GET", "POST"])
def login_otp_view(request: HttpRequest) -> HttpResponse:
    customer = _pending_customer(request)
    if customer is None:
        request.session.pop(customer_session.PENDING, None)
        return redirect(reverse("customers:login") + "?ended=pending")
    token = selectors.token_in_use(customer)
    if token is None and not selectors.otp_required(customer):
        if request_is_smartphone(request):
            # Leaflet part 2: a phone without OTP goes to ワンタイムパスワード利用申請.
            return phone_views.phone_apply_begin(request, customer)
        # OTP mandatory: the session may only set OTP up (netbank.otp.tokens.confinement).
        setup_only = confinement.otp_mandatory()
        customer_session.session_login(request, customer, otp_setup_only=setup_only)
        return redirect("otp:menu" if setup_only else "customers:top")
    form = OtpCodeForm(request.POST or None, digits=token.digits if token else 6)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and token is not None:
            outcome = otp_verify(
                token=token,
                code=form.cleaned_data["code"],
                channel="web",
                ip=client_address(request),
            )
            if outcome.accepted:
                customer_session.session_login(request, customer)
                return redirect("customers:top")
            if outcome.result is Result.LOCKED:
                pass  # the lock screen below says it all
            elif outcome.replay:
                # Only here, after the password: the hint tells nothing to someone who
                # does not hold it. The refusal counts like any other.
                form.add_error(
                    "code",
                    _(
                        "このワンタイムパスワードは使用済みです。"
                        "次のワンタイムパスワードが表示されるまでお待ちください。"
                    ),
                )
            else:
                form.add_error("code", _("ワンタイムパスワードが正しくありません。"))
        elif token is None:
            form.add_error(
                None,
                _("ワンタイムパスワードのご利用が停止されています。ヘルプデスクへご連絡ください。"),
            )
    # Locked (now or before): when it ends, whom to call, and a form that cannot be used.
    form_refuse_if_locked(form, customer, lockout.OTP)
    return render(request, "otp/login_otp.html", {"form": form}, status=status)
