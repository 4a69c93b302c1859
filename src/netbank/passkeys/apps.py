from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    """Customers' passkeys: registration, login, confirmation challenges."""

    name = "netbank.passkeys"
    label = "passkeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # NETBANK_PASSKEY_REQUIRED: the password login refuses a customer who has a
        # passkey (customers.login_policy; customers imports no app, so the app registers).
        from netbank.customers.login_policy import login_gate_register
        from netbank.passkeys.services import passkey_login_gate

        login_gate_register(passkey_login_gate)
