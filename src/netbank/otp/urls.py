from django.urls import URLPattern

app_name = "otp"

urlpatterns: list[URLPattern] = []
