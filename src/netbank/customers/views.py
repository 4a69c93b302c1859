"""Customer login, top menu, logout and the session endpoints. Thin: rules live in services."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from netbank.customers import session as customer_session
from netbank.customers.decorators import customer_required
from netbank.customers.forms import LoginForm
from netbank.customers.middleware import idle_seconds_left
from netbank.customers.services import login_check_password


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if getattr(request, "customer", None) is not None:
        return redirect("customers:top")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = login_check_password(
            login_id=form.cleaned_data["login_id"],
            password=form.cleaned_data["password"],
            ip=request.META.get("REMOTE_ADDR"),
        )
        if outcome.customer is not None:
            # The OTP step decides whether this customer needs a second factor.
            customer_session.session_begin_pending(request, outcome.customer)
            return redirect("otp:login_otp")
        form.add_error(None, outcome.message)
    return render(
        request,
        "customers/login.html",
        {"form": form, "ended": request.GET.get("ended")},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    customer_session.session_logout(request)
    return redirect(reverse("customers:login") + "?ended=logout")


@never_cache
@customer_required
def top_view(request: HttpRequest) -> HttpResponse:
    return render(request, "customers/top.html")


@never_cache
@require_GET
def session_status_view(request: HttpRequest) -> JsonResponse:
    """How long the session has left. Does not count as activity."""
    if getattr(request, "customer", None) is None:
        return JsonResponse({"authenticated": False, "login_url": reverse("customers:login")})
    return JsonResponse({"authenticated": True, "idle_seconds_left": idle_seconds_left(request)})


@require_POST
@customer_required
def session_extend_view(request: HttpRequest) -> HttpResponse:
    # Any customer request already counts as activity; this one only comes back.
    nxt = request.POST.get("next") or reverse("customers:top")
    if not nxt.startswith("/") or nxt.startswith("//"):
        nxt = reverse("customers:top")
    return redirect(nxt)
