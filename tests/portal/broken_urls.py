"""The portal's URLs and a page that fails, to see the 500 page as a visitor would."""

from django.conf.urls.i18n import i18n_patterns
from django.http import HttpRequest, HttpResponse
from django.urls import path

from icpc_portal.urls import handler400
from icpc_portal.urls import urlpatterns as portal_urlpatterns


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a page")


urlpatterns = [
    *i18n_patterns(path("broken/", broken), prefix_default_language=False),
    *portal_urlpatterns,
]

__all__ = ["handler400", "urlpatterns"]
