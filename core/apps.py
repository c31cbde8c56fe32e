from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app of the portal stands on; it imports none of them."""

    default = True
    name = "core"
    verbose_name = _("Portal")

    def ready(self) -> None:
        # Registers core's Celery tasks in every process: the outbox queues its delivery task
        # by name after a commit, in web processes too.
        from . import tasks  # noqa: F401


class PortalAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "core.admin_site.PortalAdminSite"
