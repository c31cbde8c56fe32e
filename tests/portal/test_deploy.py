"""The portal as production runs it: DEBUG off, behind an HTTPS proxy, served by gunicorn."""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
HOST = "portal.example.org"
BIN = Path(sys.executable).parent

# Variables a developer or CI may have set that would change what production mode means here.
OVERRIDES = [
    "DEBUG",
    "SECRET_KEY",
    "SITE_URL",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "STATIC_ROOT",
]


def production_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in OVERRIDES}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),  # 67 characters
        ALLOWED_HOSTS=HOST,
        SITE_URL=f"https://{HOST}",
        DJANGO_SETTINGS_MODULE="icpc_portal.settings",
        **extra,
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_without_a_warning():
    result = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]

    result = manage(env, "check")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_its_address_for_emails():
    env = production_env()
    del env["SITE_URL"]

    result = manage(env, "check")

    assert result.returncode != 0
    assert "SITE_URL must be set when DEBUG is off" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def getheader(self, name: str) -> str:
        return self.headers.get(name, "")


class Server:
    def __init__(self, port: int):
        self.port = port

    def get(self, path: str, *, https: bool = True, host: str = HOST) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Host": host}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return Response(response.status, response.msg, response.read())
        finally:
            connection.close()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn serving the portal in production mode, with its static files collected.

    The pages fetched here (an anonymous visitor's) read no table, so the throwaway SQLite
    database is not migrated; it only keeps the server away from the developer's var/ database.
    """
    tmp = tmp_path_factory.mktemp("production")
    env = {
        key: value
        for key, value in production_env(
            STATIC_ROOT=str(tmp / "static"),
            DATABASE_URL=f"sqlite:///{tmp / 'portal.sqlite3'}",
        ).items()
        if key not in ("REDIS_URL", "CELERY_BROKER_URL")  # keep the shared Redis out of it
    }
    result = manage(env, "collectstatic", "--noinput", "-v", "0")
    assert result.returncode == 0, result.stdout + result.stderr

    port = free_port()
    log = (tmp / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "icpc_portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(port)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited:\n{(tmp / 'gunicorn.log').read_text()}")
            try:
                if server.get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer:\n{(tmp / 'gunicorn.log').read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def home(gunicorn):
    response = gunicorn.get("/")
    assert response.status == 200, response.body[:2000]
    return response


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        if part.strip():
            name, *values = part.split()
            directives[name] = values
    return directives


def test_home_page_has_a_strict_content_security_policy(home):
    header = home.getheader("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    policy = csp_directives(header)

    assert policy["default-src"] == ["'self'"]
    assert "'self'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    sources = [source for values in policy.values() for source in values]
    assert not [s for s in sources if s.startswith(("http:", "https:")) or "*" in s or "." in s]


def test_home_page_has_the_security_headers(home):
    hsts = home.getheader("Strict-Transport-Security")
    max_age = re.search(r"max-age=(\d+)", hsts)
    assert max_age
    assert int(max_age.group(1)) >= 31_536_000
    assert "includeSubDomains" in hsts
    assert home.getheader("X-Content-Type-Options") == "nosniff"
    assert home.getheader("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert home.getheader("X-Frame-Options") == "DENY"
    assert home.getheader("Cross-Origin-Opener-Policy") == "same-origin"


def test_home_page_has_no_inline_script(home):
    html = home.body.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    for attributes, body in scripts:
        assert 'src="/static/' in attributes
        assert not body.strip()
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_the_stylesheet_the_page_links_is_served_by_whitenoise(home, gunicorn):
    html = home.body.decode()
    href = re.search(r'<link rel="stylesheet" href="(/static/vendor/bootstrap/[^"]+\.css)"', html)
    assert href, "the page does not link Bootstrap's CSS"
    assert re.search(r"bootstrap\.min\.[0-9a-f]{12}\.css$", href.group(1)), "not a hashed name"

    response = gunicorn.get(href.group(1))

    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/css")
    assert b".btn" in response.body
    # WhiteNoise marks files with a content hash in their name as cacheable forever.
    assert "immutable" in response.getheader("Cache-Control")


def test_plain_http_is_redirected_to_https(gunicorn):
    response = gunicorn.get("/", https=False)

    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/"


def test_an_unknown_host_is_refused(gunicorn):
    response = gunicorn.get("/", host="attacker.example.com")

    assert response.status == 400


def test_session_and_csrf_cookies_are_secure(gunicorn):
    response = gunicorn.get("/accounts/login/")

    assert response.status == 200
    cookies = response.headers.get_all("Set-Cookie") or []
    csrf = [cookie for cookie in cookies if cookie.startswith("csrftoken=")]
    assert csrf
    assert "Secure" in csrf[0]
