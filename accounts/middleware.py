from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.http import HttpRequest

from .backends import RENAMED_BACKENDS


class AuthenticationMiddleware(DjangoAuthentication):
    """Django's, reading a session signed in before the sign-in backends moved to
    accounts.backends as if signed in with the backend that replaces its own (Django would
    otherwise sign the person out: the old path is no longer in AUTHENTICATION_BACKENDS)."""

    def process_request(self, request: HttpRequest) -> None:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            renamed = RENAMED_BACKENDS.get(request.session.get(BACKEND_SESSION_KEY, ""))
            if renamed is not None:
                request.session[BACKEND_SESSION_KEY] = renamed
        super().process_request(request)
