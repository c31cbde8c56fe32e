"""A signed-in person's own pages, kept for them alone while nothing the page shows has changed.

The event pages, "My registrations" and the list are read again and again by the same person
(a member checks their seat, a representative comes back to the list after registering a
colleague), and each rendering reads their registrations and standing and renders templates that
cost far more than reading the session. ``@cache_for_person(generations=...)`` keeps the page a
person was served, in this process's memory, under a key made of:

- the person (their account's id), the language and a digest of the full address, query
  included;
- the value of each ``Generation`` the page depends on (``events.services.EVENT_PAGES``: any
  change of an event, a fee or a registration, anyone's; ``accounts.people.PEOPLE``: any change
  of an account, an email address, a membership, a representative, a contact or an
  organisation).

A kept page is not served once a change of either has committed and its bump has reached this
process (core.pagecache: under a millisecond on one host), after ``PERSONAL_PAGE_SECONDS``, nor
after a moment the view named with ``changes_at()`` (a cut-off for cancelling, the closing of
registration, midnight when a dated fee ends). Whenever a bump may have been lost (Redis did not
take it, or this process's subscription broke), every kept page is dropped with the public
pages; a bump lost for a process whose subscription never broke leaves its pages until they
expire. Pages are kept only where the generations are shared (Redis): without it, a change made
in another process would never retire them.

Only what is the same on every serving is kept:

- the CSRF token of the page's forms is written as a marker (``csrf_token()`` and the template
  context's ``csrf_token`` give it while the page is being made) and filled in with the request's
  own token each time the page is served. The marker is random, drawn once per process, so
  nothing a visitor writes into an address can stand for it;
- a page is neither kept nor served from memory while the person has a message waiting, since
  the messages are shown once;
- only a 200 that sets no cookie is kept, with its headers.

While Redis cannot say which generation is current, pages are made afresh and not kept.
"""

import datetime
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.response import SimpleTemplateResponse
from django.utils import timezone, translation

from .pagecache import (
    MAX_CACHED_QUERY,
    Generation,
    address_digest,
    also_forget,
    current_or_none,
    generations_shared,
)

PERSONAL_PAGE_SECONDS = 300
# The cache that holds them: each process's memory (settings.CACHES).
CACHE = "person-pages"
# Where the request's own CSRF token goes. Drawn at random for each process: no page contains
# it otherwise, and no address a visitor makes up can (the header writes the address back).
TOKEN_MARKER = f"csrf-marker-{secrets.token_hex(16)}"

_MAKING = "_personal_page_making"
_UNTIL = "_personal_page_until"


def csrf_token(request: HttpRequest) -> str:
    """The CSRF token a page shows: the request's own, or the marker while a page that will be
    kept is being made (it is filled in on every serving)."""
    if getattr(request, _MAKING, False):
        return TOKEN_MARKER
    return get_token(request)


def csrf_context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor, after Django's own: ``{% csrf_token %}`` writes the marker
    while a page that will be kept is being made."""
    if getattr(request, _MAKING, False):
        return {"csrf_token": TOKEN_MARKER}
    return {}


def changes_at(request: HttpRequest, moment: datetime.datetime) -> None:
    """What the page being made shows changes at ``moment`` (registration closes, a cut-off
    passes): a kept copy is not served from then on. Moments already past are ignored."""
    if not getattr(request, _MAKING, False):
        return
    stamp = moment.timestamp()
    if stamp <= _now():
        return
    current = getattr(request, _UNTIL, None)
    if current is None or stamp < current:
        setattr(request, _UNTIL, stamp)


def changes_at_midnight(request: HttpRequest) -> None:
    """The page shows what holds today (a fee dated until a day, a membership's period): it
    changes at the next midnight of the portal's time zone."""
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    midnight = datetime.datetime.combine(
        tomorrow, datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    changes_at(request, midnight)


def read_under(user: Any, generation: Generation, value: int | None) -> None:
    """Say that ``user`` (the request's person) was read while ``generation`` stood at
    ``value``: a page made for them is kept only if that is still the value the page is kept
    under (an account changed between the two reads shows on the page, and must retire it)."""
    read = getattr(user, "_generations_read", None)
    if read is None:
        read = user._generations_read = {}
    read[generation.key] = value


def _now() -> float:
    # Django's clock, which the views read too (and tests move).
    return timezone.now().timestamp()


def _messages_waiting(request: HttpRequest) -> bool:
    # len() neither marks them read nor changes what is stored.
    return bool(len(messages.get_messages(request)))


View = Callable[..., HttpResponse]


def cache_for_person(*, generations: tuple[Generation, ...]) -> Callable[[View], View]:
    """Decorate a GET view whose page for a signed-in person depends only on that person, the
    address, the language, ``generations`` and time (see the module's docstring)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = getattr(request, "user", None)
            address = request.get_full_path()
            if (
                request.method != "GET"
                or not generations_shared()
                or user is None
                or not user.is_authenticated
                or len(request.META.get("QUERY_STRING", "")) > MAX_CACHED_QUERY
                or _messages_waiting(request)
            ):
                return view(request, *args, **kwargs)
            values = []
            read = getattr(user, "_generations_read", {})
            for generation in generations:
                value = current_or_none(generation)
                if value is None:  # Redis cannot say: made afresh, not kept
                    return view(request, *args, **kwargs)
                if read.get(generation.key, value) != value:
                    # The person was read before a change this generation already counts.
                    return view(request, *args, **kwargs)
                values.append(str(value))
            # A digest of the address: keys stay short, whatever the query.
            digest = address_digest(address)
            key = f"{user.pk}:{translation.get_language()}:{digest}#{'.'.join(values)}"
            store = caches[CACHE]
            kept = store.get(key)
            if kept is not None:
                body, headers, until = kept
                if _now() < until:
                    response = HttpResponse(_filled(request, body))
                    for name, header in headers:
                        response[name] = header
                    return response
            made_at = _now()
            setattr(request, _MAKING, True)
            setattr(request, _UNTIL, None)
            try:
                response = view(request, *args, **kwargs)
                if isinstance(response, SimpleTemplateResponse):
                    response.render()  # now, while the marker stands for the token
            finally:
                setattr(request, _MAKING, False)
            if response.streaming:  # its chunks could split the marker: not for these views
                raise TypeError(f"{view.__qualname__} streams: its pages cannot be kept")
            if (
                response.status_code == 200
                and not response.cookies
                and not _messages_waiting(request)
            ):
                until = made_at + PERSONAL_PAGE_SECONDS
                named = getattr(request, _UNTIL, None)
                if named is not None:
                    until = min(until, named)
                headers = [
                    (name, header)
                    for name, header in response.items()
                    if name.lower() != "content-length"
                ]
                store.set(key, (response.content, headers, until), PERSONAL_PAGE_SECONDS)
            # Whatever it answered (a 404 page wears the header too), the marker is filled.
            response.content = _filled(request, response.content)
            return response

        return wrapper

    return decorate


def _forget_kept_pages() -> None:
    if CACHE in settings.CACHES:
        caches[CACHE].clear()


also_forget(_forget_kept_pages)


def _filled(request: HttpRequest, body: bytes) -> bytes:
    marker = TOKEN_MARKER.encode()
    if marker not in body:
        return body
    return body.replace(marker, get_token(request).encode())
