"""PC screens of the OTP journey (leaflet part 1). Thin: the rules live in otp.services."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from netbank.customers.decorators import customer_required
from netbank.otp import selectors


@never_cache
@require_GET
@customer_required
def menu_view(request: HttpRequest) -> HttpResponse:
    """ワンタイムパスワード申請内容選択."""
    customer = request.customer  # type: ignore[attr-defined]
    return render(
        request,
        "otp/menu.html",
        {
            "in_use": selectors.token_in_use(customer),
            "pending": selectors.token_pending(customer),
        },
    )
