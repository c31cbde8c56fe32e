from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from allauth.account.models import EmailAddress

        from . import people
        from .models import User

        # Signed-in pages kept for a person were served to a verified address (events' "My
        # registrations"): a change of their addresses retires them too.
        people.connect(User, EmailAddress)
