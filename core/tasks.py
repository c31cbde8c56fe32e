"""Core's Celery tasks (each app keeps its tasks in its tasks.py, found by the worker)."""

from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import get_connection

from .mail import message_from_dict


@shared_task(
    name="core.send_email",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=8,
)
def send_email(data: dict[str, Any]) -> int:
    """Deliver one message. Retried with back-off while the mail server is unreachable.

    Idempotent: a message redelivered by the broker (acks_late) is not sent a second time.
    """
    claim = f"email-sent:{data['headers']['Message-ID']}"
    if not cache.add(claim, True, timeout=7 * 24 * 3600):
        return 0
    try:
        connection = get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=False)
        return connection.send_messages([message_from_dict(data)]) or 0
    except BaseException:
        cache.delete(claim)
        raise
