"""The shared cache on Redis, with the client built once rather than on every call.

Django's Redis backend makes a new ``redis.Redis`` object for each cache call, around the same
connection pool; building it (some 170 response callbacks registered one by one) costs more
than the round trip to Redis itself. Signed-in pages read their session from this cache on every
request, so here each pool's client is made once and kept: a ``redis.Redis`` is safe to share
between threads, and its pool reconnects after a fork.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Private to Django, and absent from its type stubs: the same call Django's own makes.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
