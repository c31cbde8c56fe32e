import logging
from email.utils import parseaddr

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.pagecache import cache_for_anonymous
from members.models import Category

from .celery import app as celery_app

log = logging.getLogger(__name__)


@require_GET
@cache_for_anonymous
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"categories": Category.choices})


@require_GET
@cache_for_anonymous
def contact(request: HttpRequest) -> HttpResponse:
    """Who to write to at the Centre, and where it is."""
    return render(
        request, "pages/contact.html", {"email": parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}
    )


@require_GET
@cache_for_anonymous
def privacy(request: HttpRequest) -> HttpResponse:
    """What the portal keeps about people, why, and for how long."""
    return render(
        request,
        "pages/privacy.html",
        {
            "email": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
            "outbox_retention_days": settings.OUTBOX_RETENTION_DAYS,
        },
    )


def _database_state() -> str:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.warning("healthz: database unreachable: %s", exc)
        return "unreachable"
    return "ok"


def _broker_state() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process"
    try:
        # A pooled connection: a probe every few seconds should not open a new one each time.
        conn = celery_app.pool.acquire(block=True, timeout=2)
        try:
            conn.ensure_connection(max_retries=1, timeout=2)  # type: ignore[attr-defined]
            conn.default_channel.client.ping()  # type: ignore[attr-defined]
        finally:
            conn.release()
    except Exception as exc:  # noqa: BLE001 - any failure means the broker is not usable
        log.warning("healthz: broker unreachable: %s", exc)
        return "unreachable"
    return "ok"


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The state of the database and the broker: 200 when both work, 503 otherwise."""
    state = {"database": _database_state(), "broker": _broker_state()}
    healthy = all(value in ("ok", "in-process") for value in state.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **state}, status=200 if healthy else 503
    )
