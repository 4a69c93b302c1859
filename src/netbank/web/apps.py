from django.apps import AppConfig


class WebConfig(AppConfig):
    """Shared page furniture: base layout, stylesheet, error pages, security headers."""

    name = "netbank.web"
    label = "web"
