from django.conf import settings
from django.urls import include, path
from django.views.i18n import set_language

from netbank.web.device import display_switch_view

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("display/", display_switch_view, name="display_switch"),
    path("api/", include("netbank.otp.api_urls")),
    path("helpdesk/", include("netbank.helpdesk.urls")),
    path("", include("netbank.web.urls")),
    path("", include("netbank.customers.urls")),
    path("", include("netbank.otp.urls")),
    path("", include("netbank.passkeys.urls")),
    path("", include("netbank.banking.urls")),
]

# The demo's mailbox pages exist only while `netbank demo` runs: it sets this flag
# before the first request; no environment variable can turn them on in production.
if getattr(settings, "NETBANK_DEMO_MAILBOX", ""):
    urlpatterns.append(path("demo/", include("netbank.demo.urls")))

handler400 = "netbank.web.views.bad_request"
handler403 = "netbank.web.views.permission_denied"
handler404 = "netbank.web.views.not_found"
handler500 = "netbank.web.views.server_error"
