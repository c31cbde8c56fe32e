"""/healthz: what a load balancer or monitor asks to know whether the portal can serve."""

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from kombu import Connection

from icpc_portal import views
from tests.conftest import need

pytestmark = pytest.mark.django_db

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def expected_broker_state() -> str:
    return "in-process" if settings.CELERY_TASK_ALWAYS_EAGER else "ok"


def test_healthz_reports_a_working_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": expected_broker_state(),
    }
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    def refuse():
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "unreachable"
    assert body["status"] == "unavailable"


def test_healthz_checks_the_broker_when_tasks_go_to_a_worker(client, redis_url):
    need(
        "A Celery broker",
        bool(settings.CELERY_BROKER_URL) and not settings.CELERY_TASK_ALWAYS_EAGER,
        "set CELERY_BROKER_URL so tasks are queued for a worker",
    )

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_healthz_answers_503_when_the_broker_is_unreachable(client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app = views.celery_app
    unreachable = Connection(UNREACHABLE_BROKER).Pool(limit=1)
    monkeypatch.setattr(type(app), "pool", property(lambda self: unreachable))
    monkeypatch.setattr("kombu.utils.functional.sleep", lambda seconds: None)  # no retry wait

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


def test_healthz_answers_over_plain_http_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301
    response = client.get("/healthz")

    assert response.status_code == 200


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
