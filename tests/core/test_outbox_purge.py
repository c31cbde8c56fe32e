"""Old sent and failed emails are forgotten; pending ones are kept whatever their age."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from core import outbox as outbox_service
from core.models import OutboxMessage, OutboxStatus
from core.tasks import purge_outbox
from tests.core.conftest import make_row

pytestmark = pytest.mark.django_db


def test_purge_removes_old_sent_and_failed_rows_and_keeps_pending_ones(settings):
    settings.OUTBOX_RETENTION_DAYS = 30
    now = timezone.now()
    old = now - datetime.timedelta(days=31)
    recent = now - datetime.timedelta(days=29)
    make_row(to="old-sent@example.org", status=OutboxStatus.SENT, sent_at=old, created_at=old)
    make_row(to="old-failed@example.org", status=OutboxStatus.FAILED, created_at=old)
    make_row(to="old-pending@example.org", created_at=old)
    make_row(
        to="old-sending@example.org", status=OutboxStatus.SENDING, claimed_at=old, created_at=old
    )
    make_row(
        to="recent-sent@example.org", status=OutboxStatus.SENT, sent_at=recent, created_at=recent
    )

    assert outbox_service.purge(now=now) == 2

    assert sorted(OutboxMessage.objects.values_list("to", flat=True)) == [
        "old-pending@example.org",
        "old-sending@example.org",
        "recent-sent@example.org",
    ]


def test_the_daily_job_purges(settings):
    old = timezone.now() - datetime.timedelta(days=settings.OUTBOX_RETENTION_DAYS + 1)
    make_row(status=OutboxStatus.SENT, sent_at=old, created_at=old)

    assert purge_outbox.apply().get() == 1
    assert not OutboxMessage.objects.exists()


def test_beat_sweeps_every_minute_and_purges_daily():
    schedule = {
        entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    }

    assert schedule["core.sweep_outbox"] == 60.0
    purge = schedule["core.purge_outbox"]  # a crontab: once a day, every day
    assert (len(purge.hour), len(purge.minute), len(purge.day_of_week)) == (1, 1, 7)
