"""The 確認 screen's answer, shared by the customer's confirm screens (振替・振込, 登録先,
振込限度額 and トークン発行): a POST whose form is valid is acted on, anything else is the
screen again (400 after a POST), disabled while one of its credentials is locked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse

from netbank.customers.messages import form_refuse_if_locked
from netbank.customers.models import Customer


def confirm_page(
    request: HttpRequest,
    *,
    customer: Customer,
    form: Any,
    act: Callable[[], HttpResponse | None],
    locks: Sequence[str],
    page: Callable[[int], HttpResponse],
) -> HttpResponse:
    """``act()`` on a POST with a valid ``form``: its response (the 完了 redirect) is the
    answer, or None when it put the reason on the form. Otherwise ``page(status)``, after
    the form is disabled if one of the ``locks`` (lockout kinds) is locked."""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            done = act()
            if done is not None:
                return done
    form_refuse_if_locked(form, customer, *locks)
    return page(status)
