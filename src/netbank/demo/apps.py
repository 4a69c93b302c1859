from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`netbank demo`: seed data, the local mail catcher, and the one-command demo server."""

    name = "netbank.demo"
    label = "demo"
