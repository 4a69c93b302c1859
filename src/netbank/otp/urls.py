from django.urls import path

from netbank.otp.activation import views as views_app
from netbank.otp.direct_login import api as api_direct
from netbank.otp.phone import views as views_phone
from netbank.otp.tokens import login as views_login
from netbank.otp.tokens import views

app_name = "otp"

urlpatterns = [
    path("login/otp/", views_login.login_otp_view, name="login_otp"),
    # The token mail's download link (NETBANK_OTP["app_download_path"]).
    path("app/", views_app.app_download_view, name="app_download"),
    path("app/install.json", views_app.install_config_view, name="app_install_config"),
    # Smartphone: ワンタイムパスワード利用申請 (SLI012), and the Directログイン URL.
    path("sp/otp/apply/", views_phone.phone_apply_view, name="phone_apply"),
    path("sp/otp/apply/done/", views_phone.phone_apply_done_view, name="phone_apply_done"),
    path("sp/otp/guide/", views_phone.phone_guide_view, name="phone_guide"),
    path("login/direct/", api_direct.direct_login_open_view, name="direct_login_open"),
    path("login/direct/open/", api_direct.direct_login_post_view, name="direct_login_post"),
    path("login/direct/invalid/", api_direct.direct_login_failed_view, name="direct_login_failed"),
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
