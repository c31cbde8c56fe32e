from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("Membership applications")

    def ready(self) -> None:
        from board import motions

        from .motions import MembershipApplication

        motions.register(MembershipApplication())
