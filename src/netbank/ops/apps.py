from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Health, metrics, logs, start-up checks and the worker: what operators point tools at."""

    name = "netbank.ops"
    label = "ops"

    def ready(self) -> None:
        from django.core import checks

        from netbank.ops.checks import settings_check

        checks.register(settings_check, checks.Tags.security)
