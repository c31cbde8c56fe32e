from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils import translation

from .services import set_preferred_language


def chosen_language(request: HttpRequest) -> str | None:
    """The language the person chose for this visit, if they chose one.

    A page under a language prefix (``/fr/…``) or the language switch's cookie is a choice; the
    unprefixed English pages are only the default.
    """
    from_path = translation.get_language_from_path(request.path_info)
    if from_path:
        return from_path
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return cookie if cookie in dict(settings.LANGUAGES) else None


class AccountAdapter(DefaultAccountAdapter):
    """Lands a person who signs in on pages in their language: the one they chose on the sign-in
    page, which the account then remembers, or else the one the account remembers."""

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        url = super().get_login_redirect_url(request)
        user = request.user
        chosen = chosen_language(request)
        if chosen and getattr(user, "language", chosen) != chosen:
            set_preferred_language(user=user, language=chosen)  # type: ignore[arg-type]
        language = chosen or getattr(user, "language", "")
        if language and language != translation.get_language():
            url = translate_url(url, language)
            translation.activate(language)
        return url

    def save_user(self, request, user, form, commit=True):
        """A new account starts in the language of the page the person signed up on."""
        user.language = translation.get_language() or settings.LANGUAGE_CODE
        return super().save_user(request, user, form, commit)
