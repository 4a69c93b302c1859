from django.urls import path

from netbank.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("top/", views.top_view, name="top"),
    path("session/status", views.session_status_view, name="session_status"),
    path("session/extend", views.session_extend_view, name="session_extend"),
]
