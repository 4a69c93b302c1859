from django.urls import path

from netbank.otp.activation import views as activation_views
from netbank.otp.direct_login import api as direct_login_api
from netbank.otp.phone import views as phone_views
from netbank.otp.tokens import login
from netbank.otp.tokens import views as token_views
from netbank.otp.webapp import views as webapp_views

app_name = "otp"

urlpatterns = [
    path("login/otp/", login.login_otp_view, name="login_otp"),
    # The token mail's download link (NETBANK_OTP["app_download_path"]).
    path("app/", activation_views.app_download_view, name="app_download"),
    path("app/install.json", activation_views.install_config_view, name="app_install_config"),
    # The phone app (PWA): its shell, manifest and service worker (scope /app/).
    path("app/token/", webapp_views.shell_view, name="app_shell"),
    path("app/manifest.webmanifest", webapp_views.manifest_view, name="app_manifest"),
    path("app/sw.js", webapp_views.service_worker_view, name="app_service_worker"),
    # Smartphone: ワンタイムパスワード利用申請 (SLI012), and the Directログイン URL.
    path("sp/otp/apply/", phone_views.phone_apply_view, name="phone_apply"),
    path("sp/otp/apply/done/", phone_views.phone_apply_done_view, name="phone_apply_done"),
    path("sp/otp/guide/", phone_views.phone_guide_view, name="phone_guide"),
    path("login/direct/", direct_login_api.direct_login_open_view, name="direct_login_open"),
    path("login/direct/open/", direct_login_api.direct_login_post_view, name="direct_login_post"),
    path(
        "login/direct/invalid/",
        direct_login_api.direct_login_failed_view,
        name="direct_login_failed",
    ),
    # 各種お申込・手続き → ワンタイムパスワード
    path("procedures/otp/", token_views.menu_view, name="menu"),
    path("procedures/otp/issue/", token_views.issue_input_view, name="issue"),
    path(
        "procedures/otp/reissue/", token_views.issue_input_view, {"reissue": True}, name="reissue"
    ),
    path("procedures/otp/issue/confirm/", token_views.issue_confirm_view, name="issue_confirm"),
    path("procedures/otp/issue/done/", token_views.issue_done_view, name="issue_done"),
    path("procedures/otp/start/", token_views.start_use_view, name="start_use"),
    path("procedures/otp/start/done/", token_views.start_use_done_view, name="start_use_done"),
    path("procedures/otp/cancel/", token_views.cancel_view, name="cancel"),
    path("procedures/otp/cancel/done/", token_views.cancel_done_view, name="cancel_done"),
    path("procedures/otp/authenticator/", token_views.authenticator_view, name="authenticator"),
    path(
        "procedures/otp/authenticator/setup/",
        token_views.authenticator_setup_view,
        name="authenticator_setup",
    ),
]
