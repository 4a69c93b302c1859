from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "netbank.audit"
    label = "audit"
