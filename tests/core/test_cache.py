"""The shared cache on Redis (core/cache.py), and the sessions read from it."""

import uuid

import pytest
from django.core.cache import caches
from django.urls import reverse

from core.cache import RedisCache


@pytest.fixture
def redis_cache(redis_url):
    backend = RedisCache(redis_url, {"KEY_PREFIX": f"cache-test-{uuid.uuid4().hex}"})
    yield backend
    backend.delete_many(["a", "b"])


def test_one_client_serves_every_call(redis_cache):
    made = []
    build = redis_cache._cache._client

    def counting(*args, **kwargs):
        made.append(1)
        return build(*args, **kwargs)

    redis_cache._cache._client = counting
    redis_cache.set("a", {"seats": 3})
    redis_cache.set("b", "deux")
    assert redis_cache.get("a") == {"seats": 3}
    assert redis_cache.get_many(["a", "b"]) == {"a": {"seats": 3}, "b": "deux"}
    # One client for writes and reads alike (one server: one pool), made once.
    assert len(made) == 1


@pytest.mark.django_db
def test_a_signed_in_person_stays_signed_in_when_the_cache_loses_their_session(client, user):
    client.force_login(user)
    profile = reverse("accounts:profile")
    assert client.get(profile).status_code == 200
    caches["default"].clear()
    assert client.get(profile).status_code == 200
