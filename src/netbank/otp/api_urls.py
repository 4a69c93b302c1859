"""URLs of the token app's JSON API, included under /api/ (docs/openapi.yaml)."""

from __future__ import annotations

from django.urls import path, re_path

from netbank.otp.activation import api
from netbank.otp.channels import api as channel_api
from netbank.otp.direct_login import api as api_direct

app_name = "api"

urlpatterns = [
    path("v1/activation/start", api.activation_start_view, name="activation_start"),
    path("v1/activation/finish", api.activation_finish_view, name="activation_finish"),
    path("v1/direct-login", api_direct.direct_login_view, name="direct_login"),
    path("v1/verify", channel_api.verify_view, name="verify"),
    # Anything else under /api/ answers with a JSON 404, never the HTML error page.
    re_path(r"^(?P<rest>.*)$", api.api_not_found_view, name="not_found"),
]
