from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "netbank.notifications"
    label = "notifications"
