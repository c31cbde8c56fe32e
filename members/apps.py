from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from board import motions

        from . import pages
        from .motions import Dismissal, HonoraryAppointment, HonoraryPersonAppointment

        pages.connect()

        motions.register(HonoraryAppointment())
        motions.register(HonoraryPersonAppointment())
        motions.register(Dismissal())
