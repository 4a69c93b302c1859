from django.urls import path

from netbank.passkeys import views

app_name = "passkeys"

urlpatterns = [
    # 各種お申込・手続き → パスキー
    path("procedures/passkeys/", views.list_view, name="list"),
    path("procedures/passkeys/register/", views.register_view, name="register"),
    path(
        "procedures/passkeys/register/create/", views.register_create_view, name="register_create"
    ),
    path(
        "procedures/passkeys/register/options", views.register_options_view, name="register_options"
    ),
    path("procedures/passkeys/register/finish", views.register_finish_view, name="register_finish"),
    path("procedures/passkeys/register/done/", views.register_done_view, name="register_done"),
    path("procedures/passkeys/<int:passkey_id>/rename/", views.rename_view, name="rename"),
    path("procedures/passkeys/<int:passkey_id>/remove/", views.remove_view, name="remove"),
    # Login with a passkey (from the login page).
    path("login/passkey/options", views.login_options_view, name="login_options"),
    path("login/passkey/", views.login_view, name="login"),
]
