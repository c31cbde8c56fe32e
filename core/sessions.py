"""Sessions read from the shared cache and kept in the database (Django's ``cached_db``), made
to keep working while Redis is away, with cached copies that live five minutes at most.

Django's ``cached_db`` already reads from the database when the cache cannot answer, but then
fails on putting what it read back into the cache, on asking the cache whether a new key is
taken, and on removing a session from the cache: with Redis down every signed-in page, and
signing out, would fail. Here those only log.

The price of not failing: a session removed from the database while Redis could not be reached
(signing out, a password changed elsewhere) may still have a copy in Redis, which would sign
the cookie in again if Redis came back with its data. The same can happen in ``cached_db`` when
a request that found no cached copy reads the row just before it is removed and writes it back
just after. So a cached copy lives ``SESSION_CACHE_SECONDS`` at most, whatever the session's own
age: after that the database decides again. It costs each signed-in person one query every five
minutes.
"""

import logging
from typing import Any

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.core.cache.backends.base import BaseCache

log = logging.getLogger(__name__)

# How long a cached copy of a session may sign a cookie in without the database being asked.
SESSION_CACHE_SECONDS = 300


class SessionStore(cached_db.SessionStore):
    # Set by cached_db's __init__; Django's type stubs do not declare it.
    _cache: BaseCache

    def _cache_seconds(self, age: int) -> int:
        return min(age, SESSION_CACHE_SECONDS)

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - an unreachable cache, or a key it refuses
            log.warning("Sessions: the cache could not be read", exc_info=True)
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()  # type: ignore[attr-defined]  # the db store's
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            age = self.get_expiry_age(expiry=stored.expire_date)
            self._cache.set(self.cache_key, data, self._cache_seconds(age))
        except Exception:  # noqa: BLE001 - read from the database all the same
            log.warning("Sessions: the cache could not be written", exc_info=True)
        return data

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        try:
            if (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:  # noqa: BLE001 - the database answers
            log.warning("Sessions: the cache could not be read", exc_info=True)
        return DatabaseStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DatabaseStore.save(self, must_create)
        try:
            seconds = self._cache_seconds(self.get_expiry_age())
            self._cache.set(self.cache_key, self._session, seconds)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - kept in the database all the same
            log.warning("Sessions: the cache could not be written", exc_info=True)

    def delete(self, session_key: str | None = None) -> None:
        # As cached_db does: the database first, then the cache.
        DatabaseStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:  # noqa: BLE001 - a copy may outlive it, SESSION_CACHE_SECONDS at most
            log.warning("Sessions: a removed session may stay in the cache", exc_info=True)
