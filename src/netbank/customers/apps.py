from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """Customer identity, credentials, login, sessions and lockouts."""

    name = "netbank.customers"
    label = "customers"
