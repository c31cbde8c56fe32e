"""`make bench`: the portal's pages against bare Django, both under gunicorn, loaded with wrk.

The portal runs in production mode (DEBUG=0, collected static files) on plain http over
loopback, against whatever database and cache the caller configured (DATABASE_URL, REDIS_URL,
CELERY_BROKER_URL are inherited). Beside it, with the same gunicorn settings, bench/bare.py
serves one view of a few lines: the ceiling for any page on this machine. Each page is loaded
in rounds that alternate with the bare view, so machine noise hits both, and the median of
each side gives one line:

    bench <name>: <requests/s> req/s, p95 <ms> ms, <ratio> of bare Django

bench/floor.py serves the signed-in floor, the portal itself with one more view of a few lines
behind its session and sign-in (measured as the page "signed-in-floor"); each signed-in page
measured after it adds ", <ratio> of the signed-in floor" to its line.

Before the pages, bench/renewal.py times the yearly renewal at 10,000 and 100,000 memberships
due on one day against a hand-written SQL floor, and leaves the 100,000 memberships for the
membership changelist; the changelist's queries are counted and the slowest shown:

    bench renewal <N>: <s> s, renewed ..., rerun changed 0 rows; peak RSS <MB> MB
    bench renewal floor <N>: <s> s for one SQL statement (...); renewal/floor <ratio>
    bench admin-members queries: <count> queries, <ms> ms in SQL; slowest: ...

A benchmark, not a test: CI does not run it. Knobs: BENCH_SECONDS (per wrk run, default 3),
BENCH_ROUNDS (default 5), BENCH_VERBOSE=1 (each wrk run on stderr), BENCH_PAGES=name,name (only
those pages), BENCH_SIZE (applications and member organisations in the database, default 10000),
BENCH_RENEWAL_SIZES (default 10000,100000; empty: no renewal benchmark), BENCH_NEWSLETTER_SIZES
(default 1000,10000; empty: no newsletter benchmark).
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

# bench/ is this script's directory, first on the path.
from eventpages import PAGE_SLUG, seed_events
from newsletter_send import NewsletterBenchError, bench_newsletter
from renewal import RenewalBenchError, bench_renewal

# The signed-in floor's one view (bench/floor.py serves it there).
FLOOR_PATH = "/bench-signed-in-floor/"


@dataclass(frozen=True)
class Page:
    """One page to measure: a path on the portal, and any extra request headers."""

    name: str
    path: str
    # Extra request headers, e.g. a signed-in session's Cookie for pages that need one.
    headers: dict[str, str] = field(default_factory=dict)
    # The demo account whose session loads the page (seed_demo's people), if any.
    signed_in_as: str | None = None
    # Concurrent connections: public pages face the crowd; the Centre's staff and Board are a
    # handful of people. The bare view it is compared with gets the same number.
    connections: int = 16
    # Which server answers it: the portal, or the signed-in floor (bench/floor.py).
    server: str = "portal"


# The pages measured, in order. Later issues add theirs here.
PAGES: list[Page] = [
    Page("home", "/", {"Accept-Language": "en"}),
    Page("home-fr", "/fr/", {"Accept-Language": "fr"}),
    Page("healthz", "/healthz"),
    # The staff queue and the Board's list over BENCH_SIZE applications (seed_demo --size).
    Page(
        "admin-queue",
        "/admin/applications/application/",
        signed_in_as="staff@example.org",
        connections=2,
    ),
    Page(
        "admin-votes", "/admin/board/ballot/", signed_in_as="director2@example.org", connections=2
    ),
    # The membership changelist over the renewal benchmark's memberships (100,000 by default,
    # bench/renewal.py) and seed_demo's; goal: p95 under 100 ms.
    Page(
        "admin-members",
        "/admin/members/membership/",
        signed_in_as="staff@example.org",
        connections=2,
    ),
    # The events over bench/eventpages.py's 1,000 events and 100,000 registrations. Goals: at
    # least 0.5 of bare Django for visitors (the per-language page cache), 0.2 signed in.
    Page("events-list", "/events/", {"Accept-Language": "en"}),
    Page("event-page", f"/events/{PAGE_SLUG}/", {"Accept-Language": "en"}),
    # The least a signed-in page costs: a few lines behind the portal's session and sign-in
    # (bench/floor.py). The signed-in pages below also give their rate as a share of it.
    Page(
        "signed-in-floor",
        FLOOR_PATH,
        signed_in_as="representative@example.org",
        server="floor",
    ),
    Page("events-list-member", "/events/", signed_in_as="representative@example.org"),
    Page("event-page-member", f"/events/{PAGE_SLUG}/", signed_in_as="representative@example.org"),
    Page("my-registrations", "/events/my/", signed_in_as="representative@example.org"),
]
SIZE = int(os.environ.get("BENCH_SIZE", "10000"))

SESSION_SCRIPT = """
from django.test import Client
from accounts.models import User
client = Client()
client.force_login(User.objects.get(email={email!r}))
print(client.cookies["sessionid"].value)
"""

ROOT = Path(__file__).resolve().parent.parent

# The changelist's queries, counted and timed on one request (DEBUG=0: captured explicitly).
QUERIES_SCRIPT = """
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from accounts.models import User
client = Client(SERVER_NAME="127.0.0.1")
client.force_login(User.objects.get(email={email!r}))
client.get({path!r})
with CaptureQueriesContext(connection) as captured:
    status = client.get({path!r}).status_code
queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
total = sum(float(q["time"]) for q in queries) * 1000
print(f"QUERIES {{status}} {{len(queries)}} {{total:.1f}}")
for query in queries[:3]:
    sql = " ".join(query["sql"].split())
    shown = sql if len(sql) < 400 else sql[:150] + " ... " + sql[-250:]
    print(f"SLOW {{float(query['time']) * 1000:.1f}} ms: {{shown}}")
"""
BIN = Path(sys.executable).parent
VAR = ROOT / "var"
REPORT_LUA = Path(__file__).resolve().parent / "report.lua"

# The same for the portal and for bare Django.
GUNICORN_ARGS = ["--workers", "2", "--worker-class", "sync", "--log-level", "warning"]
WRK_ARGS = ["--threads", "2", "--timeout", "5s"]
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
VERBOSE = os.environ.get("BENCH_VERBOSE", "") not in ("", "0")
WARMUP_SECONDS = 1
START_TIMEOUT = 30.0


class BenchError(Exception):
    """The benchmark cannot run, or a page does not answer as it should."""


@dataclass
class Run:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p95_ms: float
    non_2xx_3xx: int
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Server:
    """A gunicorn server in its own process group, logging to var/bench-logs/<name>.log."""

    name: str
    app: str
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = VAR / "bench-logs" / f"{self.name}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), self.app, "--chdir", str(ROOT)]
                + ["--bind", f"127.0.0.1:{self.port}", *GUNICORN_ARGS],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        """Wait until the server answers any HTTP request."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError(f"{self.name} exited on start.\n{self.log_tail()}")
            try:
                get(self.port, "/", {})
            except OSError:
                time.sleep(0.2)
                continue
            return
        raise BenchError(f"{self.name} did not answer in {START_TIMEOUT:.0f}s.\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop gunicorn's whole process group: the arbiter and its workers."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Response:
    """A response read whole."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes


def get(port: int, path: str, headers: dict[str, str]) -> Response:
    """One GET, redirects not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        status = f"{response.status} {response.reason}"
        return Response(status, response.getheaders(), response.read())
    finally:
        conn.close()


def check_page(server: Server, path: str, headers: dict[str, str]) -> None:
    """Fail loudly, with the response, unless the page answers 200."""
    response = get(server.port, path, headers)
    if not response.status.startswith("200 "):
        head = "\n".join(f"{name}: {value}" for name, value in response.headers)
        body = response.body.decode(errors="replace")[:3000]
        raise BenchError(
            f"{server.name} {path} answered {response.status}, not 200.\n"
            f"{head}\n\n{body}\n{server.log_tail()}"
        )


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int = 16) -> Run:
    """One wrk run; its numbers come from report.lua's done() hook."""
    command = ["wrk", *WRK_ARGS, "--connections", str(max(connections, 2))]
    command += ["--duration", f"{seconds}s", "--script", str(REPORT_LUA)]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    result = subprocess.run(command + [url], capture_output=True, text=True, check=False)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk failed on {url}:\n{result.stdout}{result.stderr}")
    values = {key: int(value) for key, value in (pair.split("=") for pair in line.split()[1:])}
    return Run(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        p95_ms=values["p95_us"] / 1000,
        non_2xx_3xx=values["status"],
        socket_errors=sum(values[key] for key in ("connect", "read", "write", "timeout")),
    )


def line(name: str, runs: list[Run], bare_rate: float) -> tuple[str, bool]:
    """The printed line for one page, and whether every request got a 2xx/3xx response."""
    rate = statistics.median(run.rate for run in runs)
    p95 = statistics.median(run.p95_ms for run in runs)
    ratio = rate / bare_rate if bare_rate else 0.0
    text = f"bench {name}: {rate:.0f} req/s, p95 {p95:.1f} ms, {ratio:.2f} of bare Django"
    failed = sum(run.non_2xx_3xx for run in runs)
    broken = sum(run.socket_errors for run in runs)
    total = sum(run.requests for run in runs)
    problems = []
    if failed:
        problems.append(f"{failed} of {total} responses were not 2xx/3xx")
    if broken:
        problems.append(f"{broken} socket errors or timeouts")
    if problems:
        text += f"  [INVALID: {'; '.join(problems)}]"
    return text, not problems


def portal_env() -> dict[str, str]:
    """Production settings that still work over plain http on loopback."""
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1",  # production refuses to start without it; no email is sent
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        STATIC_ROOT=str(VAR / "bench-static"),
    )
    return env


def describe_services() -> str:
    database = os.environ.get("DATABASE_URL")
    cache = os.environ.get("REDIS_URL")
    return (
        f"database {urlsplit(database).scheme if database else 'default (SQLite in var/)'}, "
        f"cache {'redis' if cache else 'local memory'}"
    )


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def signed_in(page: Page, env: dict[str, str]) -> Page:
    """The page with a session cookie of its demo account (who has two factors set up)."""
    if page.signed_in_as is None:
        return page
    key = manage(env, "shell", "-c", SESSION_SCRIPT.format(email=page.signed_in_as)).strip()
    cookie = f"sessionid={key.splitlines()[-1]}"
    return replace(page, headers={**page.headers, "Cookie": cookie})


def changelist_queries(env: dict[str, str], page: Page) -> str:
    """The page's query count and SQL time on one request, with its slowest queries."""
    out = manage(
        env, "shell", "-c", QUERIES_SCRIPT.format(email=page.signed_in_as, path=page.path)
    ).strip()
    lines = out.splitlines()
    _, status, count, total = next(ln for ln in lines if ln.startswith("QUERIES ")).split()
    slowest = "\n  ".join(ln.removeprefix("SLOW ") for ln in lines if ln.startswith("SLOW "))
    return (
        f"bench {page.name} queries: {count} queries, {total} ms in SQL (status {status}); "
        f"slowest:\n  {slowest}"
    )


def bench() -> int:
    """Run the whole benchmark; the exit status is 1 when a request failed."""
    if shutil.which("wrk") is None:
        print(
            "bench: wrk is not installed. Install it with `apt-get install wrk` "
            "(Debian, Ubuntu) or `brew install wrk` (macOS).",
            file=sys.stderr,
        )
        return 2
    env = portal_env()
    print(f"bench: collecting static files into {env['STATIC_ROOT']}", file=sys.stderr)
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if collect.returncode != 0:
        raise BenchError(f"collectstatic failed:\n{collect.stdout}{collect.stderr}")
    print(f"bench: making sure the database holds {SIZE} applications", file=sys.stderr)
    manage(env, "seed_demo", "--quiet-logins", "--size", str(SIZE))
    ok = True
    try:
        lines, renewal_ok = bench_renewal(env, log=lambda text: print(text, file=sys.stderr))
    except RenewalBenchError as error:
        raise BenchError(str(error)) from error
    for text in lines:
        print(text, flush=True)
    ok = ok and renewal_ok
    print(seed_events(env, log=lambda text: print(text, file=sys.stderr)), flush=True)
    # The newsletter: an edition sent to an SMTP sink against a bare smtplib loop
    # (bench/newsletter_send.py), after the events so that its emails list upcoming ones.
    try:
        lines, newsletter_ok = bench_newsletter(env, log=lambda text: print(text, file=sys.stderr))
    except NewsletterBenchError as error:
        raise BenchError(str(error)) from error
    for text in lines:
        print(text, flush=True)
    ok = ok and newsletter_ok
    wanted = [name for name in os.environ.get("BENCH_PAGES", "").split(",") if name]
    pages = [signed_in(page, env) for page in PAGES if not wanted or page.name in wanted]

    portal = Server("portal", "icpc_portal.wsgi:application", env)
    bare = Server("bare", "bench.bare:application", dict(os.environ))
    servers = {"portal": portal}
    if any(page.server == "floor" for page in pages):
        servers["floor"] = Server("floor", "bench.floor:application", env)
    with ExitStack() as stack:
        for server in (*servers.values(), bare):
            stack.callback(server.stop)
            server.start()
        for server in (*servers.values(), bare):
            server.wait_ready()
        check_page(bare, "/", {})
        for page in pages:
            check_page(servers[page.server], page.path, page.headers)
        print(
            f"bench: portal ({describe_services()}) and bare Django under gunicorn "
            f"{' '.join(GUNICORN_ARGS)}; wrk {' '.join(WRK_ARGS)} (16 connections, "
            "2 for the admin pages), "
            f"{ROUNDS} x {SECONDS}s per side and page",
            file=sys.stderr,
        )

        wrk(f"{bare.base_url}/", {}, WARMUP_SECONDS)
        for page in pages:
            wrk(
                servers[page.server].base_url + page.path,
                page.headers,
                WARMUP_SECONDS,
                page.connections,
            )

        all_bare: list[Run] = []
        # The signed-in floor's share of bare Django, once measured: signed-in pages measured
        # after it also give their share of the floor.
        floor_ratio: float | None = None
        for page in pages:
            page_runs: list[Run] = []
            bare_runs: list[Run] = []
            for round_ in range(ROUNDS):
                sides = [
                    (page_runs, servers[page.server].base_url + page.path, page.headers),
                    (bare_runs, f"{bare.base_url}/", {}),
                ]
                if round_ % 2:  # alternate which side goes first: a slow spell favours neither
                    sides.reverse()
                for runs, url, headers in sides:
                    runs.append(wrk(url, headers, SECONDS, page.connections))
                    if VERBOSE:
                        run = runs[-1]
                        print(
                            f"  {url}: {run.rate:.0f} req/s, p95 {run.p95_ms:.1f} ms, "
                            f"{run.non_2xx_3xx} non-2xx/3xx, {run.socket_errors} socket errors",
                            file=sys.stderr,
                        )
            bare_rate = statistics.median(run.rate for run in bare_runs)
            text, page_ok = line(page.name, page_runs, bare_rate)
            rate = statistics.median(run.rate for run in page_runs)
            ratio = rate / bare_rate if bare_rate else 0.0
            if page.server == "floor":
                floor_ratio = ratio
            elif page.signed_in_as is not None and floor_ratio:
                text += f", {ratio / floor_ratio:.2f} of the signed-in floor"
            print(text, flush=True)
            ok = ok and page_ok
            all_bare += bare_runs
            if page.name == "admin-members":
                print(changelist_queries(env, page), flush=True)

        bare_rate = statistics.median(run.rate for run in all_bare)
        text, bare_ok = line("bare", all_bare, bare_rate)
        print(text, flush=True)
    return 0 if ok and bare_ok else 1


def main() -> None:
    try:
        sys.exit(bench())
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
