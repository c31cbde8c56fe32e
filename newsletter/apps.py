from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = _("Newsletter")

    def ready(self) -> None:
        # Registers the tasks in every process: the services queue them by name.
        from members.signals import member_people_joined

        from . import tasks  # noqa: F401
        from .services import subscribe_joined

        # Members' representatives and contacts are subscribed as soon as they join.
        member_people_joined.connect(subscribe_joined, dispatch_uid="newsletter-subscribe-joined")
