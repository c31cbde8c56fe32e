"""What every test shares: service checks, fast password hashing, private cache keys and
uploads, and the people most tests need."""

import copy
import os
import shutil
import uuid
import weakref

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connection

from accounts.backends import forget_kept_accounts
from applications.models import private_storage
from core import pagecache
from tests import factories


def need(service: str, available: bool, why: str) -> None:
    """Skip when a service is missing on a developer's machine; fail in CI (REQUIRE_SERVICES=1)."""
    if available:
        return
    message = f"{service} is required for this test: {why}"
    if settings.REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


_REDIS_CLIENTS: "weakref.WeakSet[RedisCacheClient]" = weakref.WeakSet()
_make_redis_client = RedisCacheClient.__init__


def _tracked_redis_client(self, *args, **kwargs) -> None:
    _make_redis_client(self, *args, **kwargs)
    _REDIS_CLIENTS.add(self)


RedisCacheClient.__init__ = _tracked_redis_client  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _clean_cache():
    for alias in settings.CACHES:
        caches[alias].clear()
    forget_kept_accounts()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()
    forget_kept_accounts()
    # Each phase of a test gets cache backends of its own (asgiref keeps a store per context,
    # and every store with it): their Redis connections are closed here, or the run would hold
    # one or two open per test, over a thousand descriptors by its end.
    for client in list(_REDIS_CLIENTS):
        for pool in client._pools.values():
            pool.disconnect()


@pytest.fixture(autouse=True)
def _stop_page_listeners():
    """Reading a page generation on Redis starts a listener thread in this process
    (core.pagecache); each test stops the ones it started."""
    pagecache.ask_redis_again()
    yield
    pagecache.stop_listeners()
    pagecache.ask_redis_again()
    assert not pagecache.listener_threads(), "a page generations listener is still running"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories hash a password for every user; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_cache_keys(settings):
    """Other processes may share the Redis database (a local `make bench`, a dev server) and
    cache the same pages under the same keys; give each test keys of its own."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches  # Django resets its cache connections on this change


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploads go to a directory of the test's own, never into var/media.

    The private storage caches where it writes, so the setting alone would not move it.
    """
    media = tmp_path / "private-media"
    media.mkdir()
    saved = private_storage._location

    def forget() -> None:
        for name in ("base_location", "location"):
            private_storage.__dict__.pop(name, None)

    private_storage._location = str(media)
    forget()
    settings.MEDIA_ROOT = str(media)
    assert private_storage.location == str(media)
    try:
        yield media
    finally:
        private_storage._location = saved
        forget()


@pytest.fixture
def outbox(settings, mailoutbox, monkeypatch):
    """Production's mail path: outbox rows, sent after the commit by ``core.deliver_email``
    (in-process here unless a test starts a worker) through locmem, so that ``mailoutbox``
    holds what the mail server would have received."""
    from icpc_portal.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.EMAIL_BACKEND = "core.mail.OutboxEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return mailoutbox


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


@pytest.fixture
def applicant(db):
    return factories.UserFactory()
