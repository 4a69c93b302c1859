"""The token app's download page, linked from the token mail (leaflet Step 2)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from netbank.oath.bankkeys import not_after_text
from netbank.otp.activation.install import current_bank_key, install_config_json, next_bank_key
from netbank.web.device import request_is_smartphone


@require_GET
def app_download_view(request: HttpRequest) -> HttpResponse:
    """How to install the app, its install configuration, and what to do next.

    Public (the customer opens it on the phone from the mail), and it carries no
    customer data: the サービスID and ユーザID come from the mail, the password from
    the customer's memory. On a smartphone the app is the bank's own web app
    (/app/token/), opened with one button and added to the home screen; a PC gets the
    desktop app (netbank-token) and the authenticator path.
    """
    current = current_bank_key()
    following = next_bank_key()
    response = render(
        request,
        "otp/app_download.html",
        {
            "bank_url": settings.NETBANK_PUBLIC_URL,
            "key": current,
            "fingerprint": current.fingerprint,
            "not_after": not_after_text(current.not_after),
            "next_key": following,
            "next_not_after": not_after_text(following.not_after) if following else "",
            "allow_authenticator": settings.NETBANK_OTP["allow_authenticator_apps"],
            "phone": request_is_smartphone(request),
        },
    )
    # The page differs between phone and PC: no cache may give one the other's.
    patch_vary_headers(response, ["User-Agent"])
    return response


@require_GET
def install_config_view(request: HttpRequest) -> HttpResponse:
    """install.json: the bank's URL and the key that signs its activation answers."""
    response = HttpResponse(install_config_json(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="install.json"'
    response["Cache-Control"] = "no-cache"
    return response
