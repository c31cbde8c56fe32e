"""A mail server that is down loses nothing: the row waits, with a growing delay, then fails."""

import datetime

import pytest
from django.core.mail import send_mail
from django.utils import timezone

from core import outbox as outbox_service
from core.models import OutboxMessage, OutboxStatus
from tests.core.conftest import LOCMEM

pytestmark = pytest.mark.django_db


def send_while_smtp_is_down(django_capture_on_commit_callbacks) -> OutboxMessage:
    with django_capture_on_commit_callbacks(execute=True):
        send_mail("Renewal", "Your membership is renewed.", None, ["member@example.org"])
    return OutboxMessage.objects.get()


def test_an_smtp_failure_puts_the_row_back_to_pending_with_a_back_off(
    outbox, smtp_down, settings, django_capture_on_commit_callbacks
):
    row = send_while_smtp_is_down(django_capture_on_commit_callbacks)

    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at == row.claimed_at + datetime.timedelta(
        seconds=settings.OUTBOX_RETRY_DELAY
    )
    assert "ConnectionRefusedError" in row.last_error
    assert outbox == []


def test_the_delay_doubles_with_each_attempt_up_to_a_ceiling(settings):
    settings.OUTBOX_RETRY_DELAY = 60
    settings.OUTBOX_RETRY_MAX_DELAY = 3600

    delays = [outbox_service.retry_delay(n).total_seconds() for n in range(1, 9)]

    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_the_sweep_sends_it_once_the_mail_server_is_back(
    outbox, smtp_down, settings, django_capture_on_commit_callbacks
):
    row = send_while_smtp_is_down(django_capture_on_commit_callbacks)
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM  # the mail server is back

    assert outbox_service.sweep(now=row.next_attempt_at - datetime.timedelta(seconds=1)) == 0
    assert outbox_service.sweep(now=row.next_attempt_at) == 1
    assert outbox_service.sweep(now=row.next_attempt_at + datetime.timedelta(hours=1)) == 0

    assert [(m.to, m.subject) for m in outbox] == [(["member@example.org"], "Renewal")]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, "")


def test_a_row_is_failed_after_the_last_attempt(
    outbox, smtp_down, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    row = send_while_smtp_is_down(django_capture_on_commit_callbacks)
    later = timezone.now() + datetime.timedelta(days=1)

    assert outbox_service.sweep(now=later) == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 2)
    assert outbox_service.sweep(now=later + datetime.timedelta(days=1)) == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)

    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    assert outbox_service.sweep(now=later + datetime.timedelta(days=30)) == 0  # left to staff
    assert outbox == []


def test_a_failed_row_sent_again_is_sent_once(
    outbox, smtp_down, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    row = send_while_smtp_is_down(django_capture_on_commit_callbacks)
    assert row.status == OutboxStatus.FAILED
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_service.resend(ids=[row.pk]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_service.resend(ids=[row.pk]) == 0  # sent: nothing to send again

    assert [m.subject for m in outbox] == ["Renewal"]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
