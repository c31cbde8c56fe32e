"""Bare Django: one view, no middleware, no database; the ceiling for any page here.

Served by bench/run.py with the portal's gunicorn settings:
``gunicorn --chdir <project> bench.bare:application``.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-bare-django-not-a-secret",  # noqa: S106 - signs nothing
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def hello(request: HttpRequest) -> HttpResponse:
    """A small fixed page."""
    return HttpResponse("<!DOCTYPE html><title>bare</title><p>Hello from bare Django.</p>")


urlpatterns = [path("", hello)]

application = get_wsgi_application()
