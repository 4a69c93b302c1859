from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    """Customers' passkeys: registration, login, confirmation challenges."""

    name = "netbank.passkeys"
    label = "passkeys"
    default_auto_field = "django.db.models.BigAutoField"
