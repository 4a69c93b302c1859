from django.urls import path

from netbank.helpdesk import views

app_name = "helpdesk"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("", views.home_view, name="home"),
    path("customers/<int:pk>/", views.customer_view, name="customer"),
    path("customers/<int:pk>/audit/", views.customer_audit_view, name="customer_audit"),
    path("customers/<int:pk>/suspend/", views.suspend_view, name="suspend"),
    path("customers/<int:pk>/lift/", views.lift_request_view, name="lift_request"),
    path("customers/<int:pk>/unlock/<int:counter_id>/", views.unlock_view, name="unlock"),
    path("customers/<int:pk>/token-reset/", views.token_reset_view, name="token_reset"),
    path("customers/<int:pk>/token-mail/", views.token_mail_view, name="token_mail"),
    path(
        "customers/<int:pk>/passkeys/<int:passkey_id>/revoke/",
        views.passkey_revoke_view,
        name="passkey_revoke",
    ),
    path("customers/<int:pk>/login-recovery/", views.login_recovery_view, name="login_recovery"),
    path("lift-requests/<int:request_id>/", views.lift_decide_view, name="lift_decide"),
    path("operators/", views.operators_view, name="operators"),
    path("operators/<int:user_id>/unlock/", views.operator_unlock_view, name="operator_unlock"),
]
