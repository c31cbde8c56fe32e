from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PortalConfig(AppConfig):
    name = "icpc_portal"
    verbose_name = "ICPC Portal"


class PortalAdminConfig(AdminConfig):
    default_site = "icpc_portal.admin_site.PortalAdminSite"
