from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("netbank.web.urls")),
    path("", include("netbank.customers.urls")),
    path("", include("netbank.otp.urls")),
]

handler400 = "netbank.web.views.bad_request"
handler403 = "netbank.web.views.permission_denied"
handler404 = "netbank.web.views.not_found"
handler500 = "netbank.web.views.server_error"
