from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """Customer identity, credentials, login, sessions and lockouts."""

    name = "netbank.customers"
    label = "customers"

    def ready(self) -> None:
        # Compute the dummy hash for unknown login IDs now, so the first such login
        # after start-up costs the same single verification as every other one.
        from netbank.customers.services import dummy_password_hash

        dummy_password_hash()
