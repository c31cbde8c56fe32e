import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from tests import factories


def need(service: str, available: bool, why: str) -> None:
    """Skip when a service is missing on a developer's machine; fail in CI (REQUIRE_SERVICES=1)."""
    if available:
        return
    message = f"{service} is required for this test: {why}"
    if settings.REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _clean_cache():
    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture
def postgres(db):
    need("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL to a PostgreSQL server")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL") or ""
    ok = False
    if url:
        import redis

        try:
            ok = bool(redis.Redis.from_url(url, socket_timeout=2).ping())
        except redis.RedisError:
            ok = False
    need("Redis", ok, "set REDIS_URL to a running Redis server")
    return url


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    need("Chromium", os.path.exists(path), "install Debian's chromium package")
    return path


@pytest.fixture
def user(db):
    return factories.UserFactory()


@pytest.fixture
def staff_user(db):
    return factories.StaffFactory()


@pytest.fixture
def director(db):
    return factories.DirectorFactory()
