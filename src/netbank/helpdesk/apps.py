from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    """Operator console, 緊急利用停止 and the four-eyes 利用再開."""

    name = "netbank.helpdesk"
    label = "helpdesk"
    default_auto_field = "django.db.models.BigAutoField"
