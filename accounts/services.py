from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from core.emails import absolute_url

from .models import User
from .people import PEOPLE


def set_preferred_language(*, user: User, language: str) -> None:
    """Remember the language a signed-in person chose, for pages and emails."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unsupported language: {language}")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(language=language)
        PEOPLE.bump_on_commit()  # the account kept for signed-in requests has changed
    user.language = language


def invite_person(
    *, email: str, first_name: str, last_name: str, language: str
) -> tuple[User, str]:
    """The account for ``email``, and the link that lets a new person choose a password.

    An existing account is returned as it is, with no link. A new one has no usable password
    and a verified address: only the owner of the address can use the link, which proves it.
    """
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, ""
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=None,
            first_name=first_name,
            last_name=last_name,
            language=language,
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user, access_link(user)


def access_link(user: User) -> str:
    """For a person who has never chosen a password, the link to choose one; else ``""``.

    Made when the email that carries it is written: a link made when the account was created
    may have expired by the time the person is told why they have one.
    """
    if user.has_usable_password():
        return ""
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    return absolute_url(path)
