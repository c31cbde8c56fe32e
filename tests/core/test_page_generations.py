"""Page generations on Redis: bumps are pushed to every process, which then reads its
generations from memory; whenever that push cannot be trusted, it reads Redis as before."""

import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches

from core import pagecache
from core.pagecache import Generation

# The other process: it reads a generation until a read costs it no command to Redis, says so,
# then after each bump (a line) reads it once more, and says what it read and what that cost.
READER_SCRIPT = """
import sys, time
import django
django.setup()
from core.pagecache import Generation
from tests.core.test_page_generations import count_commands, read

commands = count_commands(setattr)
generation = Generation(sys.argv[1])
value, cost = read(generation, commands)
until = time.monotonic() + 5
while cost and time.monotonic() < until:
    time.sleep(0.01)
    value, cost = read(generation, commands)
print("ready", value, cost, flush=True)
for line in sys.stdin:  # a bump was made: read once, a moment later
    time.sleep(0.2)
    print("seen", *read(generation, commands), flush=True)
"""


def count_commands(patch: Callable[[Any, str, Any], None]) -> Callable[[], int]:
    """Count the commands the main thread sends to Redis from now on (``patch``: ``setattr``,
    or a test's ``monkeypatch.setattr``); the count, when called."""
    count = 0
    original = redis.Redis.execute_command

    def counted(self, *args, **options):
        nonlocal count
        if threading.current_thread() is threading.main_thread():
            count += 1
        return original(self, *args, **options)

    patch(redis.Redis, "execute_command", counted)
    return lambda: count


@pytest.fixture
def commands(redis_url, monkeypatch) -> Callable[[], int]:
    """How many commands this test's thread has sent to Redis so far."""
    return count_commands(monkeypatch.setattr)


@pytest.fixture
def generation(redis_url) -> Generation:
    return Generation(f"test-{uuid.uuid4().hex}")


@pytest.fixture
def other(redis_url) -> Iterator[redis.Redis]:
    """Another client of the same Redis, as another process would be."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def read(generation: Generation, commands: Callable[[], int]) -> tuple[int, int]:
    """The generation, and how many commands reading it cost."""
    before = commands()
    return generation.current(), commands() - before


def read_until(generation, commands, wanted: Callable[[int, int], bool], seconds: float = 10):
    until = time.monotonic() + seconds
    while True:
        value, cost = read(generation, commands)
        if wanted(value, cost) or time.monotonic() > until:
            return value, cost
        time.sleep(0.01)


def line(process: subprocess.Popen[str], seconds: float = 15) -> list[str]:
    assert process.stdout is not None
    assert pagecache._readable(process.stdout, seconds), "the other process said nothing"
    return process.stdout.readline().split()


def bump_as_another_process(client: redis.Redis, generation: Generation, *, publish: bool) -> int:
    key = caches["default"].make_and_validate_key(generation.key)
    if not publish:  # a bump whose message this process missed
        return int(client.incr(key))
    channel = pagecache._channel(client.connection_pool.connection_kwargs.get("db", 0))
    return int(client.eval(pagecache.BUMP_SCRIPT, 1, key, channel))


def test_a_bump_reaches_another_process_which_reads_its_generation_without_asking_redis(
    generation, redis_url
):
    process = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, generation.key.removeprefix("pages-generation:")],
        cwd=django_settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "icpc_portal.settings",
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": django_settings.CACHES["default"]["KEY_PREFIX"],
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        said, before, cost = line(process)
        assert said == "ready"
        assert int(cost) == 0, "the other process still asks Redis for every read"
        assert generation.current() == int(before)

        for _ in range(3):
            generation.bump()
            bumped = generation.current()
            assert bumped > int(before)
            assert process.stdin is not None
            process.stdin.write(f"{bumped}\n")
            process.stdin.flush()
            said, seen, cost = line(process)
            assert (said, int(seen), int(cost)) == ("seen", bumped, 0)
            before = seen
    finally:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def test_with_its_subscription_cut_a_process_reads_redis_is_never_stale_and_listens_again(
    generation, commands, other, monkeypatch
):
    first, cost = read_until(generation, commands, lambda value, cost: cost == 0)
    assert cost == 0, "the generation is still read from Redis"

    caches["pages"].set("page:/events/:en#kept", b"a page kept before the cut")
    caches["person-pages"].set("someone-kept-before", b"a person's page kept before the cut")
    # Redis drops the listener's connection, and refuses it for now.
    refusing = threading.Event()
    refusing.set()
    subscribe = redis.client.PubSub.subscribe

    def refused(self, *args, **kwargs):
        if refusing.is_set():
            raise redis.ConnectionError("refused by the test")
        return subscribe(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.PubSub, "subscribe", refused)
    name = f"{pagecache.THREAD_NAME}-{os.getpid()}"
    listening = [c for c in other.client_list(_type="pubsub") if c["name"] == name]
    assert len(listening) == 1
    other.client_kill_filter(_id=listening[0]["id"])

    value, cost = read_until(generation, commands, lambda value, cost: cost > 0, seconds=5)
    assert (value, cost) == (first, 1), "without its subscription it must read Redis"
    # Dropped as soon as the listener knows its subscription is gone: Redis, read directly
    # meanwhile, cannot say whether a bump was lost while it was away.
    deadline = time.monotonic() + 2
    while caches["pages"].get("page:/events/:en#kept") is not None:
        assert time.monotonic() < deadline, "what was kept before the cut is still there"
        time.sleep(0.01)
    assert caches["person-pages"].get("someone-kept-before") is None
    caches["pages"].set("page:/events/:en#kept", b"a page kept while it was away")
    missed = bump_as_another_process(other, generation, publish=False)
    assert read(generation, commands) == (missed, 1)
    published = bump_as_another_process(other, generation, publish=True)
    assert read(generation, commands) == (published, 1)

    refusing.clear()
    value, cost = read_until(generation, commands, lambda value, cost: cost == 0)
    assert (value, cost) == (published, 0), "back, it holds what was bumped while it was away"
    # A bump may have been lost while it was away: what it kept meanwhile is dropped too.
    assert caches["pages"].get("page:/events/:en#kept") is None
    # Redis may answer the bump a moment before the message reaches this process's socket.
    again = bump_as_another_process(other, generation, publish=True)
    seen = read_until(generation, commands, lambda value, cost: value == again and cost == 0, 2)
    assert seen == (again, 0)


def test_the_bumping_process_holds_its_own_bump_at_once(generation, commands):
    first, cost = read_until(generation, commands, lambda value, cost: cost == 0)
    assert cost == 0
    generation.bump()
    assert generation.current() == first + 1  # before its message, or read again from Redis
    assert read_until(generation, commands, lambda value, cost: cost == 0) == (first + 1, 0)


class Stall:
    """Holds the listener thread where ``wrap`` is put, once armed, until released."""

    def __init__(self) -> None:
        self.armed, self.held, self.released = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def stalled(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread() and self.armed.is_set():
                self.held.set()
                self.released.wait(10)
            return function(*args, **kwargs)

        return stalled


def stall_waits(stall: Stall, monkeypatch) -> None:
    """The listener stalls in its wait for the socket (a request's look into it does not)."""
    real_readable = pagecache._readable

    def waiting(sock, timeout):
        if timeout:
            return stall.wrap(real_readable)(sock, timeout)
        return real_readable(sock, timeout)

    monkeypatch.setattr(pagecache, "_readable", waiting)


@pytest.mark.parametrize("where", ["before reading the socket", "with the message read"])
def test_a_bump_waiting_for_a_slow_listener_is_read_from_redis_never_stale(
    where, generation, commands, other, monkeypatch
):
    """The listener thread may wait for the interpreter lock while requests are served: a
    bump that reached the process but not yet its values is not missed meanwhile."""
    first, cost = read_until(generation, commands, lambda value, cost: cost == 0)
    assert cost == 0
    stall = Stall()
    if where == "before reading the socket":
        stall_waits(stall, monkeypatch)
    else:
        monkeypatch.setattr(pagecache._Listener, "_take", stall.wrap(pagecache._Listener._take))
    try:
        stall.armed.set()
        if where == "before reading the socket":  # it comes back to wait within a heartbeat
            assert stall.held.wait(5)
        bumped = bump_as_another_process(other, generation, publish=True)
        if where == "with the message read":
            assert stall.held.wait(5)
        # Once the message is in the process (Redis may answer the bump a moment before), every
        # read goes to Redis until the thread has taken it in.
        assert read_until(generation, commands, lambda value, cost: cost, 0.5) == (bumped, 1)
        assert read(generation, commands) == (bumped, 1)
    finally:
        stall.armed.clear()
        stall.released.set()
    assert read_until(generation, commands, lambda value, cost: cost == 0, 5) == (bumped, 0)


def test_a_listener_silent_past_its_deadline_is_not_trusted(generation, commands, monkeypatch):
    """A connection that dies without closing (or a thread that never gets to run) says
    nothing: once the deadline has passed without a word, reads go to Redis."""
    monkeypatch.setattr(pagecache, "LISTENER_DEADLINE", 1.5)
    monkeypatch.setattr(redis.client.PubSub, "ping", lambda self, message=None: None)
    stall = Stall()
    stall_waits(stall, monkeypatch)
    stall.armed.set()  # from its first wait on, the thread hears nothing and does nothing
    try:
        first, cost = read_until(generation, commands, lambda value, cost: cost == 0)
        assert cost == 0
        assert stall.held.wait(5)
        began = time.monotonic()
        value, cost = read_until(generation, commands, lambda value, cost: cost, 5)
        assert (value, cost) == (first, 1)
        assert time.monotonic() - began <= 1.5 + 0.1
    finally:
        stall.armed.clear()
        stall.released.set()


def test_a_forked_process_does_not_trust_the_listener_of_its_parent(generation, commands):
    first, cost = read_until(generation, commands, lambda value, cost: cost == 0)
    assert cost == 0
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one read, and what it cost
        try:
            os.write(writable, " ".join(map(str, read(generation, commands))).encode())
        finally:
            os._exit(0)
    os.close(writable)
    try:
        said = os.read(readable, 100).decode().split()
    finally:
        os.close(readable)
        os.waitpid(pid, 0)
    assert [int(word) for word in said] == [first, 1]


def test_a_process_that_only_bumps_starts_no_listener(generation, other):
    generation.bump()
    generation.bump()
    assert pagecache.listener_threads() == []
    key = caches["default"].make_and_validate_key(generation.key)
    assert int(other.get(key)) > 0


def test_without_redis_generations_stay_in_the_cache_and_no_listener_starts(settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    generation = Generation(f"test-{uuid.uuid4().hex}")
    first = generation.current()
    generation.bump()
    assert generation.current() == first + 1
    caches["default"].clear()  # the key is lost: it starts again from the time
    assert generation.current() > first + 1
    assert pagecache.listener_threads() == []


def test_the_listener_works_in_a_process_with_over_a_thousand_descriptors_open(
    generation, commands, tmp_path
):
    """A long-lived worker (or this test run) can hold descriptors numbered past 1024, which
    select() refuses: the listener's sockets are numbered above them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        if hard != resource.RLIM_INFINITY and hard < 1200:
            pytest.skip(f"this machine allows {hard} open files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    opened = []
    with (tmp_path / "f").open("w") as first:
        try:
            while len(opened) < 1100:
                opened.append(os.dup(first.fileno()))
            assert max(opened) > 1024
            value, cost = read_until(generation, commands, lambda value, cost: cost == 0)
            assert cost == 0, "the listener never came up"
            generation.bump()
            assert read_until(generation, commands, lambda value, cost: cost == 0) == (value + 1, 0)
        finally:
            for descriptor in opened:
                os.close(descriptor)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_lost_generation_starts_again_from_the_clock_of_redis_not_of_this_host(
    generation, commands, other, monkeypatch
):
    first, cost = read_until(generation, commands, lambda value, cost: cost == 0)
    assert cost == 0
    # Redis lost the key, and this host's clock is far behind the others'.
    other.delete(caches["default"].make_and_validate_key(generation.key))
    monkeypatch.setattr(pagecache.time, "time_ns", lambda: 1)

    generation.bump()

    value, cost = read_until(generation, commands, lambda value, cost: cost == 0)
    assert value > first, "a bump below what processes hold would be ignored by all of them"
    generation.bump()
    assert read_until(generation, commands, lambda v, cost: v > value and cost == 0) == (
        value + 1,
        0,
    )


def test_a_bump_that_redis_does_not_answer_at_once_is_tried_again(
    generation, commands, monkeypatch
):
    first, cost = read_until(generation, commands, lambda value, cost: cost == 0)
    assert cost == 0
    bound = generation._bind(caches["default"])
    real = bound.bump
    calls = []

    def stalled_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise redis.TimeoutError("Redis stalled for a moment")
        return real(**kwargs)

    monkeypatch.setattr(bound, "bump", stalled_once)
    monkeypatch.setattr(pagecache, "BUMP_RETRIES", (0.0, None))

    generation.bump()

    assert len(calls) == 2
    assert read_until(generation, commands, lambda value, cost: cost == 0) == (first + 1, 0)
