"""Public pages served from memory to visitors without a session, per language.

A page the view has just made and kept is kept whole too, with the headers it leaves the inner
middleware with (``keep_anonymous``), until the same moment: the next visitor gets it from
icpc_portal.middleware.KeptAnonymousPagesMiddleware, before the session, the language, the URL
resolver and the view run, while its generation stands.

Anyone with a session (signed in, or with a message waiting) gets a freshly rendered page, so
nothing personal is ever cached or served to someone else. Pages whose content changes with
the data name a ``Generation``: the data's services ``bump()`` it after their commit, and
every page cached before is never served again, in any process (the generation lives in the
shared cache; the pages themselves in each process's memory, where a hit is cheapest).

With Redis, reading the generation costs nothing outside the process. ``bump()`` increments it
and publishes the new value in one server-side script (both or neither), and each process that
serves cached pages keeps a daemon thread subscribed to that channel (``_Listener``). While the
subscription is up and answering, ``current()`` returns the value held in memory; whenever it is
not (not yet confirmed, broken, silent for ``LISTENER_DEADLINE`` seconds, or a process forked
from one that had it), ``current()`` reads Redis as before, so a fault costs speed, never
freshness. After every (re)subscription the thread first has it confirmed, then reads the
values with GET, and only then is trusted: a bump between the two is in the read or in a
message. Values only grow (an increment, or the time in nanoseconds when the key was lost), so
a message or a read only ever raises what a process holds.

What is left of staleness: a process learns of another's bump when the message reaches it, and
the bump is made after the transaction commits (as before, a request in between gets the page
of just before). Until the message is in this process's socket, a request is served as if it
had come a moment earlier: Redis's delivery, well under a millisecond on one host, more across a
network. Once it is in the socket, nothing is trusted until the thread has taken it in (its
read may wait for the interpreter lock behind a request, milliseconds on a busy worker):
``value`` looks into the socket, and the thread says when it is reading, so those requests read
Redis. The bumping process holds its own bump at once. If the subscription dies silently (a
network that drops packets without closing the connection), pages may be behind for up to
``LISTENER_DEADLINE`` seconds; a closed connection or a stopped Redis is noticed at once. If
Redis loses the keys (a flush) without a bump, processes keep serving what they hold, which is
still current, until the next bump or ``ANONYMOUS_PAGE_SECONDS``.

While Redis cannot say which generation is current (down, or not answering within the client's
half-second), pages are made afresh and not kept. A bump that cannot reach Redis (tried three
times within a third of a second) is lost for the other processes: the bumping process drops
the pages it kept, and every process drops its own when its subscription comes back after a
gap. A process whose subscription never broke while another could not reach Redis keeps its
pages until ``ANONYMOUS_PAGE_SECONDS``.
"""

import contextlib
import hashlib
import logging
import os
import random
import select
import threading
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
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

ANONYMOUS_PAGE_SECONDS = 300
# A longer query string is not cached (someone trying every combination fills no memory).
MAX_CACHED_QUERY = 200

# The listener pings Redis when it has heard nothing for this long, and is no longer trusted
# (nor its connection kept) when it has heard nothing, not even its ping's answer, for longer.
LISTENER_HEARTBEAT = 1.0
LISTENER_DEADLINE = 3.0
# After a failure it tries again after a pause doubling from the first to the last.
LISTENER_BACKOFF = (0.1, 5.0)
THREAD_NAME = "pages-generations"
# A bump that Redis does not answer is tried again after these pauses, then given up (None).
BUMP_RETRIES: tuple[float | None, ...] = (0.05, 0.25, None)

# A lost generation starts again from Redis's own clock in nanoseconds (every host's bumps
# count from the same clock, whatever each host's says), written as digits: a Lua number is a
# double, and nanoseconds would lose theirs.
_SERVER_NANOSECONDS = (
    "local t = redis.call('TIME') local now = t[1] .. string.format('%06d', t[2]) .. '000'"
)

# Increment the generation, or start it from the time when the key was lost, and publish the
# new value, in one step on the server: no bump is ever counted without being announced.
BUMP_SCRIPT = f"""
local value
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('INCR', KEYS[1])
    value = redis.call('GET', KEYS[1])
else
    {_SERVER_NANOSECONDS}
    value = now
    redis.call('SET', KEYS[1], value)
end
redis.call('PUBLISH', ARGV[1], KEYS[1] .. ' ' .. value)
return value
"""

# The generation, or, when the key was lost, a new one from Redis's clock (unless another
# process has just set one).
READ_OR_START_SCRIPT = f"""
local value = redis.call('GET', KEYS[1])
if value then return value end
{_SERVER_NANOSECONDS}
redis.call('SET', KEYS[1], now, 'NX')
return redis.call('GET', KEYS[1])
"""


# What else a process keeps under the generations (core.personalpages' pages, the accounts of
# accounts.backends): dropped with the pages whenever a bump may have been lost.
_ALSO_FORGET: list[Callable[[], None]] = []


def also_forget(forget: Callable[[], None]) -> None:
    """Register ``forget``: it drops what its module keeps under the generations, and is called
    with the pages' own clearing whenever a bump may have been lost."""
    if forget not in _ALSO_FORGET:
        _ALSO_FORGET.append(forget)


def forget_kept() -> None:
    """Drop everything this process keeps under the generations."""
    caches["pages"].clear()
    for forget in _ALSO_FORGET:
        forget()


def generations_shared() -> bool:
    """Whether the generations are shared by every process (Redis). Without it each process
    counts its own, and a change made by another process (a worker, a command) is not seen
    until what was kept expires: the public pages and the parts of pages shared by everyone
    (``cached_for_generation``) are still kept, for minutes; a person's own pages and account
    are not (core.personalpages, accounts.backends)."""
    return isinstance(caches["default"], RedisCache)


# Every generation by its key (a page kept before the middleware names its generation so).
_GENERATIONS: dict[str, "Generation"] = {}


class Generation:
    """A counter for a family of cached pages; bumping it retires every page cached before."""

    def __init__(self, name: str) -> None:
        self.key = f"pages-generation:{name}"
        _GENERATIONS[self.key] = self
        self._bound: weakref.WeakKeyDictionary[RedisCache, _Bound] = weakref.WeakKeyDictionary()

    def _bind(self, backend: RedisCache) -> "_Bound":
        bound = self._bound.get(backend)
        if bound is None:
            bound = self._bound[backend] = _Bound(backend, self.key)
        return bound

    def current(self) -> int:
        backend = caches["default"]
        if not isinstance(backend, RedisCache):
            return self._read_or_start()
        bound = self._bind(backend)
        listener = _listener(bound.server, start=True)
        assert listener is not None
        value = listener.value(bound.key)
        if value is not None:
            return value
        # Not trusted yet (or any more): read Redis, with a client kept for this process (the
        # cache API builds a new client per call, which costs more than the round trip).
        # Django stores an int as its digits.
        epoch = listener.epoch
        raw = bound.reader.get(bound.key)
        value = int(raw) if raw is not None else int(bound.read_or_start(keys=[bound.key]))
        listener.learn(bound.key, value, epoch)
        return value

    def _read_or_start(self) -> int:
        # It starts from the time, not from zero: if the shared cache loses the key, the next
        # value is still one no page was cached under.
        value: Any = cache.get_or_set(self.key, time.time_ns, timeout=None)
        return int(value)

    def bump(self) -> None:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            bound = self._bind(backend)
            # Only a process that serves cached pages has a listener; a worker or a command
            # that bumps starts none.
            listener = _listener(bound.server, start=False)
            epoch = listener.epoch if listener is not None else 0
            for pause in BUMP_RETRIES:
                try:
                    value = int(bound.bump(keys=[bound.key], args=[bound.channel]))
                    break
                except RedisError:
                    if pause is None:
                        # The bump is lost for the other processes (they drop their pages
                        # when their subscription comes back); this one drops its own now.
                        forget_kept()
                        raise
                    # A moment's stall (a fork to save, a failover): again, one more bump
                    # than needed costs nothing.
                    time.sleep(pause)
            if listener is not None:
                listener.learn(bound.key, value, epoch)
            return
        # An atomic increment: two bumps at once both count, and no clock can take it back.
        try:
            cache.incr(self.key)
        except ValueError:  # the key was lost: start again from the time
            cache.set(self.key, time.time_ns(), timeout=None)

    def bump_on_commit(self) -> None:
        """After the surrounding transaction commits (at once outside one)."""
        transaction.on_commit(self.bump, robust=True)


class _Bound:
    """A generation's key on one Redis cache, with this process's clients for it."""

    def __init__(self, backend: RedisCache, key: str) -> None:
        self.key = backend.make_and_validate_key(key)
        self.reader = backend._cache.get_client(write=False)
        writer = backend._cache.get_client(write=True)
        self.bump = writer.register_script(BUMP_SCRIPT)
        self.read_or_start = writer.register_script(READ_OR_START_SCRIPT)
        self.server: str = backend._servers[0]  # type: ignore[attr-defined]  # Django's own
        self.channel = _channel(writer.connection_pool.connection_kwargs.get("db", 0))


def _channel(db: int) -> str:
    # Channels are shared by every database of a server: the database is in the name.
    return f"pages-generations:{db}"


def _readable(sock: Any, timeout: float) -> bool:
    """Whether ``sock`` has something to read (or was closed) within ``timeout`` seconds. With
    poll, which takes any descriptor: select refuses those numbered 1024 and above, which a
    busy process can reach."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(timeout * 1000))


class _Listener:
    """This process's subscription to a Redis server's generations, kept by a daemon thread.

    ``values`` holds what this process knows of each generation (by its full key); it is only
    read while ``healthy``, and ``epoch`` moves whenever the subscription goes down or comes up,
    so a value read from Redis is only kept if the subscription was up all along.
    """

    def __init__(self, server: str) -> None:
        self.server = server
        self.pid = os.getpid()
        self.values: dict[str, int] = {}
        self.healthy = False
        self.epoch = 0
        self.heard = 0.0  # time.monotonic() of the last thing read from the subscription
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connection: Any = None
        self._socket: Any = None  # the subscription's, for value() to look into
        self.reading = False
        self.subscribed_before = False
        self.thread = threading.Thread(
            target=self._run, name=f"{THREAD_NAME}-{self.pid}", daemon=True
        )

    def value(self, key: str) -> int | None:
        """What this process holds for ``key``, when that can be trusted; else None."""
        if not self.healthy or time.monotonic() - self.heard >= LISTENER_DEADLINE:
            return None
        # A message in the socket, or being taken in, may be a bump this process does not hold
        # yet: then read Redis (the socket first: the thread says it is reading before it
        # takes anything out of it).
        try:
            if _readable(self._socket, 0):
                return None
        except (OSError, ValueError, TypeError):  # closed, or gone
            return None
        if self.reading:
            return None
        return self.values.get(key)

    def learn(self, key: str, value: int, epoch: int) -> None:
        """Keep ``value``, read from Redis after ``epoch`` was seen, if still subscribed since."""
        with self._lock:
            if self.healthy and self.epoch == epoch and value > self.values.get(key, -1):
                self.values[key] = value

    def stop(self, timeout: float = LISTENER_DEADLINE) -> None:
        self._stop.set()
        self._set_unhealthy()
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):  # wakes the thread from its wait
                connection.disconnect()
        self.thread.join(timeout)

    def _set_unhealthy(self) -> None:
        with self._lock:
            was_healthy = self.healthy
            if self.healthy:
                self.healthy = False
                self.epoch += 1
        if was_healthy and not self._stop.is_set():
            # A bump may be lost while it is away, and Redis, read directly until the
            # subscription is back, would not say so: what was kept before is dropped now.
            forget_kept()

    def _run(self) -> None:
        pause = LISTENER_BACKOFF[0]
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self._listen()
            except Exception as error:  # noqa: BLE001 - any failure: read Redis until back
                if not self._stop.is_set():
                    logger.warning("Page generations: subscription lost (%r)", error)
            finally:
                self._set_unhealthy()
            if time.monotonic() - began > 10 * LISTENER_DEADLINE:
                pause = LISTENER_BACKOFF[0]  # it had been working: try again soon
            self._stop.wait(pause * random.uniform(0.5, 1.0))
            pause = min(pause * 2, LISTENER_BACKOFF[1])

    def _listen(self) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(
            self.server,
            socket_connect_timeout=LISTENER_DEADLINE,
            socket_timeout=LISTENER_DEADLINE,
            socket_keepalive=True,
            # Its own pings below are answered to it; redis-py's would be swallowed.
            health_check_interval=0,
            # A reconnection behind its back would lose messages unseen: fail instead.
            retry=Retry(NoBackoff(), 0),
            client_name=f"{THREAD_NAME}-{self.pid}",  # in CLIENT LIST, for whoever looks
        )
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(_channel(client.connection_pool.connection_kwargs.get("db", 0)))
            self._connection = pubsub.connection
            if self._stop.is_set():
                return
            # First the confirmation, then the values: any bump from now on is announced.
            confirmed_by = time.monotonic() + LISTENER_DEADLINE
            while (message := pubsub.get_message(timeout=LISTENER_HEARTBEAT)) is None or (
                message["type"] != "subscribe"
            ):
                if time.monotonic() > confirmed_by:
                    raise TimeoutError("the subscription was not confirmed")
            self._socket = pubsub.connection._sock
            self.reading = True  # until what came with the confirmation is taken in below
            keys = list(self.values)
            read = client.mget(keys) if keys else []
            if self.subscribed_before:
                # While it was away a bump may have failed to reach Redis at all (Redis down,
                # or out of reach of the process that bumped): the pages this process kept
                # from before are not trusted either.
                forget_kept()
            self.subscribed_before = True
            with self._lock:
                self.values = {
                    key: int(raw) for key, raw in zip(keys, read, strict=True) if raw is not None
                }
                self.heard = time.monotonic()
                self.epoch += 1
                self.healthy = True
            pinged = 0.0
            while not self._stop.is_set():
                # Take in all that has come, redis-py's buffer included; meanwhile (the
                # interpreter lock may pass to a request at any point) trust nothing held.
                self.reading = True
                try:
                    while (message := pubsub.get_message(timeout=0)) is not None:
                        self._take(message)
                finally:
                    self.reading = False
                if _readable(self._socket, LISTENER_HEARTBEAT):
                    continue
                now = time.monotonic()
                if now - self.heard > LISTENER_DEADLINE:
                    raise TimeoutError("Redis did not answer")
                if min(now - self.heard, now - pinged) >= LISTENER_HEARTBEAT:
                    pubsub.ping()
                    pinged = now
        finally:
            self._set_unhealthy()
            self._connection = self._socket = None
            pubsub.close()
            client.close()

    def _take(self, message: dict[str, Any]) -> None:
        self.heard = time.monotonic()
        if message["type"] == "message":
            key, _, raw = message["data"].decode().rpartition(" ")
            with self._lock:
                if int(raw) > self.values.get(key, -1):
                    self.values[key] = int(raw)
        elif message["type"] != "pong":
            # A second confirmation means the connection was made again behind its back:
            # whatever was published in between is lost.
            raise ConnectionError(f"unexpected {message['type']} on the subscription")


_listeners: dict[str, _Listener] = {}
_listeners_pid = os.getpid()
_listeners_lock = threading.Lock()


def _listener(server: str, *, start: bool) -> _Listener | None:
    """This process's listener for ``server``, started on first use (``start``)."""
    global _listeners_pid
    if _listeners_pid != os.getpid():
        # A forked child: the parent's thread did not come along, nor may its sockets be
        # closed from here (that would close them for the parent). Start afresh.
        with _listeners_lock:
            _listeners.clear()
            _listeners_pid = os.getpid()
    listener = _listeners.get(server)
    if listener is None and start:
        with _listeners_lock:
            listener = _listeners.get(server)
            if listener is None:
                listener = _listeners[server] = _Listener(server)
                listener.thread.start()
    return listener


def listener_threads() -> list[threading.Thread]:
    """The listener threads alive in this process."""
    return [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)]


def stop_listeners() -> None:
    """Stop this process's listeners (tests; they are daemon threads otherwise)."""
    with _listeners_lock:
        stopping = list(_listeners.values()) if _listeners_pid == os.getpid() else []
        _listeners.clear()
    for listener in stopping:
        listener.stop()


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
                anonymous_visit(request)
                and (query or not request.GET)
                and len(query_string) <= MAX_CACHED_QUERY
            )
            if not cacheable:
                return view(request, *args, **kwargs)
            page_cache = caches["pages"]
            key = f"page:{request.path}:{translation.get_language()}"
            if query:
                key += f"?{query_string}"
            current = None
            if generation is not None:
                current = current_or_none(generation)
                if current is None:  # not known: the page is made afresh, and not kept
                    return _vary(view(request, *args, **kwargs))
                key += f"#{current}"
            cached = page_cache.get(key)
            if cached is not None:
                body, headers = cached
                response = HttpResponse(body, content_type=content_type)
                for name, header in headers:  # the view's own (a feed's Content-Disposition)
                    response[name] = header
            else:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.cookies and not response.streaming:
                    page_cache.set(
                        key, (response.content, list(response.items())), ANONYMOUS_PAGE_SECONDS
                    )
                    # Kept whole too, as it leaves the middleware, for as long (only when made:
                    # a copy of a kept page would outlive it).
                    response._anonymous_page = (  # type: ignore[attr-defined]
                        generation.key if generation else None,
                        current,
                    )
            return _vary(response)

        return wrapper

    if view is not None:
        return decorate(view)
    return decorate


def anonymous_visit(request: HttpRequest) -> bool:
    """A GET by someone with neither a session nor a message waiting: the only requests a
    visitor's kept page may answer (the view's decorator and the middleware both ask)."""
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def address_digest(address: str) -> str:
    """A short key for a page's full address, whatever its query."""
    return hashlib.blake2b(address.encode(), digest_size=16).hexdigest()


def _early_key(address: str) -> str:
    return "whole:" + address_digest(address)


def keep_anonymous(address: str, response: HttpResponseBase) -> None:
    """Keep a visitor's page whole, headers included, as it leaves the inner middleware, if
    ``cache_for_anonymous`` has just made and kept it, until the same moment
    (icpc_portal.middleware.KeptAnonymousPagesMiddleware serves it again before the rest of the
    middleware and the URL resolver run)."""
    mark = getattr(response, "_anonymous_page", None)
    if mark is None or not isinstance(response, HttpResponse):
        return
    if response.status_code != 200 or response.cookies or response.streaming:
        return
    generation, value = mark
    headers = list(response.items())
    caches["pages"].set(
        _early_key(address), (generation, value, headers, response.content), ANONYMOUS_PAGE_SECONDS
    )


def kept_anonymous(address: str) -> HttpResponse | None:
    """The visitor's page kept whole for ``address``, while its generation still stands."""
    kept = caches["pages"].get(_early_key(address))
    if kept is None:
        return None
    generation, value, headers, body = kept
    if generation is not None and current_or_none(_GENERATIONS[generation]) != value:
        return None
    response = HttpResponse(body)
    for name, header in headers:
        response[name] = header
    return response


def _vary(response: HttpResponse) -> HttpResponse:
    # Whoever has a session gets another page: shared caches must keep them apart.
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return response


# After Redis has failed to say a generation, none is asked of it for this long: a Redis that
# hangs costs a request one timeout, not one for each generation it reads (its account, its
# page, the parts of the page).
REDIS_PAUSE = 1.0
_redis_failed_until = 0.0


def current_or_none(generation: Generation) -> int | None:
    """The generation, or None when Redis cannot say (down, or not answering in time): pages
    are then made afresh, slower but never stale, rather than fail."""
    global _redis_failed_until
    if time.monotonic() < _redis_failed_until:
        return None
    try:
        return generation.current()
    except RedisError:
        _redis_failed_until = time.monotonic() + REDIS_PAUSE
        logger.warning("Page generations: Redis did not answer; pages are made afresh")
        return None


def ask_redis_again() -> None:
    """Forget the last failure: the next read asks Redis (tests, after bringing it back)."""
    global _redis_failed_until
    _redis_failed_until = 0.0


def cached_for_generation(name: str, generation: Generation, make: Callable[[], Any]) -> Any:
    """A value (a piece of a page, rows read for it) kept in memory until ``generation`` moves
    on, per language: what signed-in pages share with everyone, built once (made afresh each
    time while Redis cannot say which generation is current)."""
    current = current_or_none(generation)
    if current is None:
        return make()
    key = f"part:{name}:{translation.get_language()}#{current}"
    page_cache = caches["pages"]
    value = page_cache.get(key)
    if value is None:
        value = make()
        page_cache.set(key, value, ANONYMOUS_PAGE_SECONDS)
    return value
