"""While Redis is away: sessions come from the database (core/sessions.py) and signing out
never leaves a copy that signs the person back in; cached pages are made afresh, and a bump that
could not reach Redis drops this process's pages (core/pagecache.py)."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from core.sessions import SESSION_CACHE_SECONDS

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every cache call fails at once.
UNREACHABLE = {
    "default": {
        "BACKEND": "core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "p"},
    "person-pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pp"},
}


@pytest.fixture
def redis_away(settings):
    settings.SESSION_ENGINE = "core.sessions"
    settings.CACHES = UNREACHABLE


def test_with_redis_away_a_signed_in_person_still_sees_their_pages(redis_away, client, user):
    client.force_login(user)  # kept in the database; the cache could not take it
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert response.wsgi_request.user == user


def test_with_redis_away_signing_out_still_signs_out(redis_away, user):
    client = Client()
    client.force_login(user)
    key = client.session.session_key

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_a_cached_session_lives_five_minutes_at_most_then_the_database_decides(
    redis_url, settings, user
):
    """A copy left in the cache (Redis unreachable while the row was removed, or a request
    that read the row just before and wrote it back just after) signs nobody in for long."""
    settings.SESSION_ENGINE = "core.sessions"
    client = Client()
    client.force_login(user)
    key = client.session.session_key
    cache = caches["default"]
    raw = cache._cache.get_client()
    cached = cache.make_and_validate_key(f"django.contrib.sessions.cached_db{key}")
    assert 0 < raw.ttl(cached) <= SESSION_CACHE_SECONDS

    cache.delete(f"django.contrib.sessions.cached_db{key}")  # as if evicted
    assert client.get(reverse("accounts:profile")).status_code == 200  # read from the database
    assert 0 < raw.ttl(cached) <= SESSION_CACHE_SECONDS


def test_signing_out_removes_the_session_from_the_cache_and_the_database(redis_url, settings, user):
    settings.SESSION_ENGINE = "core.sessions"
    client = Client()
    client.force_login(user)
    key = client.session.session_key
    assert client.get(reverse("accounts:profile")).status_code == 200

    client.post(reverse("account_logout"))

    assert not Session.objects.filter(session_key=key).exists()
    assert caches["default"].get(f"django.contrib.sessions.cached_db{key}") is None
    copy = Client()
    copy.cookies["sessionid"] = key
    assert SESSION_KEY not in copy.session
    assert copy.get(reverse("accounts:profile")).status_code == 302


def test_with_redis_away_the_event_pages_are_made_afresh(redis_away, client, user):
    from tests.factories import EventFactory

    event = EventFactory()
    assert client.get(reverse("events:list")).status_code == 200
    assert event.title in client.get(event.get_absolute_url()).content.decode()
    client.force_login(user)
    assert event.title in client.get(event.get_absolute_url()).content.decode()


def test_with_redis_away_a_bump_drops_the_pages_this_process_kept(redis_away):
    from redis.exceptions import RedisError

    from events.services import EVENT_PAGES

    caches["pages"].set("page:/events/:en#1", b"<p>42 seats left</p>")
    with pytest.raises(RedisError):
        EVENT_PAGES.bump()
    assert caches["pages"].get("page:/events/:en#1") is None


def test_with_redis_away_signed_in_pages_and_accounts_are_read_afresh(
    redis_away, client, user, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import EventFactory

    event = EventFactory()
    client.force_login(user)
    client.get(event.get_absolute_url())
    with CaptureQueriesContext(connection) as captured:
        assert event.title in client.get(event.get_absolute_url()).content.decode()
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "accounts_user" in sql  # the account: not kept
    assert "events_registration" in sql  # the page: made afresh


def test_with_redis_hanging_a_request_waits_for_it_once(redis_away, monkeypatch):
    """Redis that does not answer is not asked again for a moment: one timeout per request,
    not one per generation the request reads (its account, its page, the page's parts)."""
    import time

    from redis.exceptions import TimeoutError as RedisTimeout

    from accounts.people import PEOPLE
    from core import pagecache
    from events.services import EVENT_PAGES

    asked = []

    def hangs(self):
        asked.append(self)
        raise RedisTimeout("Timeout reading from socket")

    monkeypatch.setattr(pagecache.Generation, "current", hangs)
    assert pagecache.current_or_none(PEOPLE) is None
    assert pagecache.current_or_none(EVENT_PAGES) is None
    assert pagecache.current_or_none(PEOPLE) is None
    assert len(asked) == 1

    # The pause over: Redis is asked again.
    monkeypatch.setattr(pagecache, "_redis_failed_until", time.monotonic() - 0.01)
    assert pagecache.current_or_none(PEOPLE) is None
    assert len(asked) == 2
