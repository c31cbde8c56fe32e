from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url


def portal(request: HttpRequest) -> dict:
    """The language switcher's targets: the current page in each language."""
    path = request.get_full_path()
    return {
        "language_links": [
            (code, name, translate_url(path, code)) for code, name in settings.LANGUAGES
        ],
    }
