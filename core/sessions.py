"""Sessions read from the shared cache and kept in the database (Django's ``cached_db``), made
to keep working while Redis is away.

Django's ``cached_db`` already reads from the database when the cache cannot answer, but then
fails on putting what it read back into the cache, and on asking the cache whether a new key is
taken: every signed-in page would fail with Redis down. Here those two only log. Removing a
signed-in session is the opposite case: it is removed from the cache first, and if the cache
cannot be reached nothing is removed and the error stands (signing out fails, and can be tried
again). Removing it from the database alone would leave the cached copy to sign the person back
in once the cache returned. The key of a visit before signing in, replaced when the person signs
in, signs nobody in: it is removed from the database even when the cache cannot be reached.
"""

import logging
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.core.cache.backends.base import BaseCache

log = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    # Set by cached_db's __init__; Django's type stubs do not declare it.
    _cache: BaseCache

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
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
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

    def delete(self, session_key: str | None = None, *, strict: bool = True) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        # First from the cache. If it cannot be reached, a signed-in session is not removed at
        # all (``strict``: the error stands); the key a person had before signing in is.
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            if strict:
                raise
            log.warning("Sessions: an old key stays in the cache", exc_info=True)
        DatabaseStore.delete(self, session_key)

    def cycle_key(self) -> None:
        """A new key for the same data (on signing in, or changing one's password): the old key
        is removed, strictly unless it held no sign-in (the key of a visit before signing in,
        which the cache may keep until it returns: it signs nobody in)."""
        data = self._session  # type: ignore[attr-defined]  # SessionBase's, not in the stubs
        key = self.session_key
        self.create()
        self._session_cache = data
        if key:
            self.delete(key, strict=SESSION_KEY in data)
