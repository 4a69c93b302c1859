"""URLs of the token app's JSON API, included under /api/ (docs/openapi.yaml)."""

from __future__ import annotations

from django.urls import path, re_path

from netbank.otp.activation import api as activation_api
from netbank.otp.channels import api as channels_api
from netbank.otp.direct_login import api as direct_login_api

app_name = "api"

urlpatterns = [
    path("v1/activation/start", activation_api.activation_start_view, name="activation_start"),
    path("v1/activation/finish", activation_api.activation_finish_view, name="activation_finish"),
    path("v1/direct-login", direct_login_api.direct_login_view, name="direct_login"),
    path("v1/verify", channels_api.verify_view, name="verify"),
    # Anything else under /api/ answers with a JSON 404, never the HTML error page.
    re_path(r"^(?P<rest>.*)$", activation_api.api_not_found_view, name="not_found"),
]
