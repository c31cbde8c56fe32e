from django.conf import settings
from django.db import transaction

from .models import User


def set_preferred_language(*, user: User, language: str) -> None:
    """Remember the language a signed-in person chose, for pages and emails."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unsupported language: {language}")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
