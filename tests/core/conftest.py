"""The email outbox, opted into: pytest-django hands every other test's email to locmem directly."""

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.models import OutboxMessage
from icpc_portal.celery import app as celery_app
from tests.factories import with_totp

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1
TEMPLATES_DIR = Path(__file__).parent / "templates"


@pytest.fixture
def smtp_down(settings):
    """The delivery backend is SMTP to a port where nothing listens."""
    settings.EMAIL_DELIVERY_BACKEND = SMTP
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 1
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture
def notice_templates(settings):
    """A template of the tests' own: templates/core/email/notice_{subject,body}.txt."""
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = [TEMPLATES_DIR, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates


def _forget_broker_connections() -> None:
    """Celery keeps its connection pools; a test that moves the broker must let go of them
    (kombu keeps them per URL, for the tests that use that URL again)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def use_broker(monkeypatch) -> Iterator[Callable[..., None]]:
    """``use_broker(url, prefix="")``: tasks go to that broker (no longer in-process)."""

    def point(url: str, prefix: str = "") -> None:
        # The read and write URLs, which come before the CELERY_BROKER_URL of the environment.
        for key in ("broker_url", "broker_read_url", "broker_write_url"):
            monkeypatch.setitem(celery_app.conf, key, url)
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        options = {"global_keyprefix": prefix} if prefix else {}
        monkeypatch.setitem(celery_app.conf, "broker_transport_options", options)
        _forget_broker_connections()

    yield point
    _forget_broker_connections()


@pytest.fixture
def test_broker(redis_url) -> Iterator[tuple[str, str]]:
    """A Redis broker of the tests' own: a database number apart, and keys prefixed per test,
    so that a worker never takes the tasks of another test run on the same Redis."""
    import redis

    url, prefix = redis_url.rsplit("/", 1)[0] + "/14", f"outbox-test-{uuid.uuid4().hex}:"
    yield url, prefix
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


def queue_drained(url: str, prefix: str) -> bool:
    """No task waits in the queue, and none taken by the worker is still unacknowledged
    (acks_late: a task is acknowledged once it has run)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        return not client.llen(f"{prefix}celery") and not client.hlen(f"{prefix}unacked")
    finally:
        client.close()


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def make_row(**fields) -> OutboxMessage:
    """A row written directly (no after-commit delivery): what enqueue would have left."""
    values = {
        "to": "member@example.org",
        "subject": "[ICPC] Your renewal",
        "body": "Your membership is renewed.",
        "from_email": "ICPC Portal <portal@cipc-icpc.org>",
        "headers": {"Message-ID": f"<{uuid.uuid4().hex}@cipc-icpc.org>"},
        **fields,
    }
    return OutboxMessage.objects.create(**values)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(with_totp(staff_user))
    return client


@pytest.fixture
def superuser_client(db):
    from django.test import Client

    from tests import factories

    client = Client()
    client.force_login(with_totp(factories.UserFactory(is_staff=True, is_superuser=True)))
    return client
