from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    """Operator console, 緊急利用停止 and the four-eyes 利用再開."""

    name = "netbank.helpdesk"
    label = "helpdesk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # customers.suspension cannot import otp or banking (dependencies point one
        # way); the helpdesk, which may use every app, registers their suspension steps.
        from netbank.helpdesk.services import suspension_steps_install

        suspension_steps_install()
