from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "icpc_portal"
    verbose_name = "ICPC Portal"
