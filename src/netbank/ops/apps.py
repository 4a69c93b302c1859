from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Health, metrics, logs, start-up checks and the worker: what operators point tools at."""

    name = "netbank.ops"
    label = "ops"
