from django.apps import AppConfig


class OtpConfig(AppConfig):
    """Soft tokens: issue, activation, 利用開始, verification, and the app-facing API."""

    name = "netbank.otp"
    label = "otp"
