from django.urls import path

from netbank.otp import views, views_login

app_name = "otp"

urlpatterns = [
    path("login/otp/", views_login.login_otp_view, name="login_otp"),
    # 各種お申込・手続き → ワンタイムパスワード
    path("procedures/otp/", views.menu_view, name="menu"),
    path("procedures/otp/issue/", views.issue_input_view, name="issue"),
    path("procedures/otp/reissue/", views.issue_input_view, {"reissue": True}, name="reissue"),
    path("procedures/otp/issue/confirm/", views.issue_confirm_view, name="issue_confirm"),
    path("procedures/otp/issue/done/", views.issue_done_view, name="issue_done"),
    path("procedures/otp/start/", views.start_use_view, name="start_use"),
    path("procedures/otp/start/done/", views.start_use_done_view, name="start_use_done"),
    path("procedures/otp/cancel/", views.cancel_view, name="cancel"),
    path("procedures/otp/cancel/done/", views.cancel_done_view, name="cancel_done"),
    path("procedures/otp/authenticator/", views.authenticator_view, name="authenticator"),
    path(
        "procedures/otp/authenticator/setup/",
        views.authenticator_setup_view,
        name="authenticator_setup",
    ),
]
