from django.urls import path

from netbank.otp import views, views_login

app_name = "otp"

urlpatterns = [
    path("login/otp/", views_login.login_otp_view, name="login_otp"),
    path("procedures/otp/", views.menu_view, name="menu"),
]
