"""The header every page of the portal wears, rendered once rather than on every request.

The header (templates/includes/header.html) is the same for everyone who reads the site in one
language and one part of it, but for what the signed-in menu offers (the administration to staff,
the Membership page to people who have one). Only two things in it are a person's own: the
CSRF token of the "Sign out" and language forms, and the address the language form comes back
to. For signed-in people the header is therefore rendered once per language and menu, with
markers in those two places, kept in this process's memory, and filled in on each request.
Visitors' headers link each language's version of the current page, so they are rendered each
time (the public pages they see most come whole from the page cache anyway).
"""

from functools import lru_cache
from pathlib import Path

from django import template
from django.conf import settings
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.autoreload import file_changed
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from core.personalpages import csrf_token
from members.templatetags.members_tags import has_membership_page

register = template.Library()

# Markers no header text contains: replaced by the person's own values on every request.
_TOKEN = "portal-frame-csrf-token-here"  # noqa: S105 - a marker, not a secret
_NEXT = "portal-frame-next-address-here"


@lru_cache(maxsize=256)
def _signed_in_header(language: str, app: str, home: bool, staff: bool, membership: bool) -> str:
    """The signed-in header for one language and menu, with the markers (the language is in
    the key because render_to_string translates into the active one)."""
    return render_to_string(
        "includes/header.html",
        {
            "signed_in": True,
            "staff": staff,
            "show_membership": membership,
            "app": app,
            "home": home,
            "csrf_token": _TOKEN,
            "next_path": _NEXT,
            # The signed-in switcher is a form: it names the languages and links none.
            "language_links": [(code, name, "") for code, name in settings.LANGUAGES],
        },
    )


@receiver(file_changed, dispatch_uid="portal-frame-template-changed")
def _forget_headers(sender: object, file_path: Path, **kwargs: object) -> None:
    """Under runserver, an edited template shows at the next request, the header's included."""
    if file_path.suffix == ".html":
        _signed_in_header.cache_clear()


@register.simple_tag(takes_context=True)
def portal_header(context: template.Context) -> SafeString:
    request = context.get("request")
    user = context.get("user")
    match = getattr(request, "resolver_match", None)
    app = (match.app_name if match else "") or ""
    home = bool(match and match.url_name == "home")
    if request is None or user is None or not user.is_authenticated:
        return render_to_string(
            "includes/header.html",
            {
                "signed_in": False,
                "app": app,
                "home": home,
                "language_links": context.get("language_links", ()),
            },
        )
    header = _signed_in_header(
        get_language(), app, home, bool(user.is_staff), has_membership_page(user)
    )
    token = escape(csrf_token(request))
    next_path = escape(request.get_full_path())
    # The header is our template's output; the two values are escaped here.
    return mark_safe(header.replace(_TOKEN, token).replace(_NEXT, next_path))  # noqa: S308
