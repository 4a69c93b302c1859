from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


def customer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only a fully logged-in customer gets through; others go to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "customer", None) is None:
            url = reverse("customers:login")
            reason = getattr(request, "session_end_reason", None)
            if reason:
                url += f"?ended={reason}"
            return redirect(url)
        return view(request, *args, **kwargs)

    return wrapper
