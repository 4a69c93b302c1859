from django.urls import path

from netbank.customers import views, views_security

app_name = "customers"

urlpatterns = [
    path("", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("top/", views.top_view, name="top"),
    # 各種お申込・手続き
    path("procedures/", views.procedures_view, name="procedures"),
    path(
        "procedures/secret-questions/",
        views.secret_questions_view,
        name="secret_questions",
    ),
    path(
        "procedures/secret-questions/done/",
        views.secret_questions_done_view,
        name="secret_questions_done",
    ),
    # The customer's own security pages (緊急停止, ログイン履歴).
    path("security/emergency-stop/", views_security.emergency_stop_view, name="emergency_stop"),
    path(
        "security/emergency-stop/<str:token>/",
        views_security.emergency_stop_link_view,
        name="emergency_stop_link",
    ),
    path("security/login-history/", views_security.login_history_view, name="login_history"),
    path("session/status", views.session_status_view, name="session_status"),
    path("session/extend", views.session_extend_view, name="session_extend"),
]
