"""The signed-in floor: the portal itself, with one more view of a few lines.

The view answers a short page naming who is signed in, behind the portal's own settings,
middleware, session and sign-in: the least any signed-in page of the portal can cost on this
machine, as bench/bare.py is the least any page can cost. Served by bench/run.py with the
portal's gunicorn settings: ``gunicorn --chdir <project> bench.floor:application``.
"""

import os

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "icpc_portal.settings")
application = get_wsgi_application()

import icpc_portal.urls  # noqa: E402 - after Django is set up, before the first request

# bench/run.py loads it there (FLOOR_PATH).
PATH = "/bench-signed-in-floor/"


def signed_in(request: HttpRequest) -> HttpResponse:
    """Who is signed in (the session and the person, read as every signed-in page reads them).
    Nobody signed in is refused: the bench would otherwise measure a visitor's page."""
    if not request.user.is_authenticated:
        return HttpResponse("Sign in first.", status=403)
    return HttpResponse(
        f"<!DOCTYPE html><title>floor</title><p>Hello, person {request.user.pk}.</p>"
    )


icpc_portal.urls.urlpatterns.insert(0, path(PATH.strip("/") + "/", signed_in))
