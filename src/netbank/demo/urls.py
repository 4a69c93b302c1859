"""Demo-only pages. Routed by config/urls.py only while `netbank demo` runs."""

from django.urls import path

from netbank.demo import views

app_name = "demo"

urlpatterns = [
    path("mail/", views.mail_list_view, name="mail_list"),
    path("mail/<str:name>/", views.mail_detail_view, name="mail_detail"),
]
