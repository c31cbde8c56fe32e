from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import translate_url
from django.utils import translation


class AccountAdapter(DefaultAccountAdapter):
    """Lands a person who signs in on pages in the language they chose before."""

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        url = super().get_login_redirect_url(request)
        language = getattr(request.user, "language", "")
        if language and language != translation.get_language():
            url = translate_url(url, language)
            translation.activate(language)
        return url
