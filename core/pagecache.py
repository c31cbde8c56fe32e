"""Public pages served from memory to visitors without a session, per language.

Anyone with a session (signed in, or with a message waiting) gets a freshly rendered page, so
nothing personal is ever cached or served to someone else. Pages whose content changes with
the data name a ``Generation``: the data's services ``bump()`` it after their commit, and
every page cached before is never served again, in any process (the generation lives in the
shared cache; the pages themselves in each process's memory, where a hit is cheapest).
"""

import time
import weakref
from collections.abc import Callable
from functools import wraps
from typing import Any, overload
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

ANONYMOUS_PAGE_SECONDS = 300
# A longer query string is not cached (someone trying every combination fills no memory).
MAX_CACHED_QUERY = 200


class Generation:
    """A counter for a family of cached pages; bumping it retires every page cached before."""

    def __init__(self, name: str) -> None:
        self.key = f"pages-generation:{name}"
        self._clients: weakref.WeakKeyDictionary[RedisCache, Any] = weakref.WeakKeyDictionary()

    def current(self) -> int:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            # Read on every cached page: straight from Redis, with a client kept for this
            # process (the cache API builds a new client per call, which costs more than the
            # round trip). Django stores an int as its digits.
            client = self._clients.get(backend)
            if client is None:
                client = self._clients[backend] = backend._cache.get_client(write=False)
            raw = client.get(backend.make_and_validate_key(self.key))
            if raw is not None:
                return int(raw)
        # It starts from the time, not from zero: if the shared cache loses the key, the next
        # value is still one no page was cached under.
        value: Any = cache.get_or_set(self.key, time.time_ns, timeout=None)
        return int(value)

    def bump(self) -> None:
        # An atomic increment: two bumps at once both count, and no clock can take it back.
        try:
            cache.incr(self.key)
        except ValueError:  # the key was lost: start again from the time
            cache.set(self.key, time.time_ns(), timeout=None)

    def bump_on_commit(self) -> None:
        """After the surrounding transaction commits (at once outside one)."""
        transaction.on_commit(self.bump, robust=True)


View = Callable[..., HttpResponse]


@overload
def cache_for_anonymous(view: View) -> View: ...


@overload
def cache_for_anonymous(
    view: None = None,
    *,
    generation: Generation | None = None,
    query: bool = False,
    content_type: str = "text/html; charset=utf-8",
) -> Callable[[View], View]: ...


def cache_for_anonymous(
    view: View | None = None,
    *,
    generation: Generation | None = None,
    query: bool = False,
    content_type: str = "text/html; charset=utf-8",
) -> Any:
    """Decorate a view: ``@cache_for_anonymous`` or ``@cache_for_anonymous(generation=...,
    query=True)`` (``query``: the page depends on its query string, which is in the key;
    ``content_type``: what the view answers, a calendar feed's ``text/calendar``)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            query_string = urlencode(sorted(request.GET.items())) if query else ""
            cacheable = (
                request.method == "GET"
                and (query or not request.GET)
                and len(query_string) <= MAX_CACHED_QUERY
                and settings.SESSION_COOKIE_NAME not in request.COOKIES
                and "messages" not in request.COOKIES
            )
            if not cacheable:
                return view(request, *args, **kwargs)
            page_cache = caches["pages"]
            key = f"page:{request.path}:{translation.get_language()}"
            if query:
                key += f"?{query_string}"
            if generation is not None:
                key += f"#{generation.current()}"
            cached = page_cache.get(key)
            if cached is not None:
                response = HttpResponse(cached, content_type=content_type)
            else:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.cookies and not response.streaming:
                    page_cache.set(key, response.content, ANONYMOUS_PAGE_SECONDS)
            # Whoever has a session gets another page: shared caches must keep them apart.
            patch_vary_headers(response, ("Cookie", "Accept-Language"))
            return response

        return wrapper

    if view is not None:
        return decorate(view)
    return decorate


def cached_for_generation(name: str, generation: Generation, make: Callable[[], Any]) -> Any:
    """A value (a piece of a page, rows read for it) kept in memory until ``generation`` moves
    on, per language: what signed-in pages share with everyone, built once."""
    key = f"part:{name}:{translation.get_language()}#{generation.current()}"
    page_cache = caches["pages"]
    value = page_cache.get(key)
    if value is None:
        value = make()
        page_cache.set(key, value, ANONYMOUS_PAGE_SECONDS)
    return value
