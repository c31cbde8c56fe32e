"""A row is sent at most once: claimed in the database before it is sent, whoever delivers it."""

import datetime
import threading
import time

import pytest
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core import outbox as outbox_service
from core.models import OutboxMessage, OutboxStatus
from core.tasks import deliver_email
from tests.concurrency import race
from tests.core.backends import CountingBackend, WorkerKilled
from tests.core.conftest import LOCMEM, make_row


def lease(settings) -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.OUTBOX_CLAIM_LEASE)


@pytest.mark.django_db
def test_a_task_delivered_twice_sends_one_copy(outbox):
    row = make_row()

    assert deliver_email.apply(args=(row.pk,)).get() is True
    assert deliver_email.apply(args=(row.pk,)).get() is False  # the broker redelivered it

    assert [(m.to, m.subject) for m in outbox] == [(["member@example.org"], "[ICPC] Your renewal")]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


@pytest.mark.django_db
def test_a_worker_killed_between_claim_and_send_gives_no_second_copy(
    outbox, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_DELIVERY_BACKEND = "tests.core.backends.WorkerDiesBackend"
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        send_mail("Renewal", "Your membership is renewed.", None, ["member@example.org"])
    row = OutboxMessage.objects.get()
    assert row.status == OutboxStatus.SENDING  # claimed, never reported
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM

    # acks_late: the broker hands the task to another worker, which finds the row claimed.
    assert deliver_email.apply(args=(row.pk,)).get() is False
    # Within the lease the sweep leaves it alone: its worker might still be sending.
    assert (
        outbox_service.sweep(now=row.claimed_at + lease(settings) - datetime.timedelta(seconds=1))
        == 0
    )
    assert outbox == []

    # Past the lease no live worker can still hold it (the task time limit is shorter).
    after_lease = row.claimed_at + lease(settings) + datetime.timedelta(seconds=1)
    assert outbox_service.sweep(now=after_lease) == 1
    assert outbox_service.sweep(now=after_lease) == 0
    assert deliver_email.apply(args=(row.pk,)).get() is False

    assert [(m.to, m.subject) for m in outbox] == [(["member@example.org"], "Renewal")]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


@pytest.mark.django_db
def test_a_claim_past_its_lease_on_the_last_attempt_is_failed_not_sent(outbox, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    claimed_at = timezone.now() - lease(settings) - datetime.timedelta(minutes=1)
    row = make_row(status=OutboxStatus.SENDING, claimed_at=claimed_at, attempts=2)

    assert outbox_service.sweep() == 0

    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert "stopped" in row.last_error
    assert outbox == []


@pytest.mark.django_db
def test_a_connection_that_breaks_after_the_server_accepted_gives_no_second_copy(outbox, settings):
    settings.EMAIL_DELIVERY_BACKEND = "tests.core.backends.QuitFailsBackend"
    row = make_row()

    assert deliver_email.apply(args=(row.pk,)).get() is True

    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert outbox_service.sweep(now=timezone.now() + datetime.timedelta(days=1)) == 0
    assert len(outbox) == 1


@pytest.mark.django_db
def test_the_sweep_sends_through_one_connection(outbox, settings, monkeypatch):
    settings.EMAIL_DELIVERY_BACKEND = "tests.core.backends.CountingBackend"
    monkeypatch.setattr(CountingBackend, "opened", 0)
    for n in range(3):
        make_row(to=f"member{n}@example.org")

    assert outbox_service.sweep() == 3

    assert CountingBackend.opened == 1
    assert sorted(m.to[0] for m in outbox) == [f"member{n}@example.org" for n in range(3)]


@pytest.mark.django_db
def test_a_row_is_not_sent_before_its_next_attempt(outbox):
    row = make_row(next_attempt_at=timezone.now() + datetime.timedelta(minutes=5))

    assert deliver_email.apply(args=(row.pk,)).get() is False
    assert outbox_service.sweep() == 0
    assert outbox_service.sweep(now=timezone.now() + datetime.timedelta(minutes=6)) == 1
    assert len(outbox) == 1


@pytest.mark.django_db
def test_a_sent_row_is_never_sent_again(outbox):
    row = make_row(status=OutboxStatus.SENT, sent_at=timezone.now())

    assert deliver_email.apply(args=(row.pk,)).get() is False
    assert outbox_service.sweep(now=timezone.now() + datetime.timedelta(days=1)) == 0
    assert outbox == []


@pytest.mark.django_db(transaction=True)
def test_workers_racing_to_deliver_the_same_row_send_one_copy(outbox, postgres):
    row = make_row()
    results: list[object] = []

    # Another transaction holds the row while four workers try to deliver it: each has read it
    # as pending and waits on the lock, then all go at once. Only one claim may succeed.
    with transaction.atomic():
        OutboxMessage.objects.select_for_update().get(pk=row.pk)
        racing = threading.Thread(
            target=lambda: results.extend(
                race(*[lambda: outbox_service.deliver(message_id=row.pk)] * 4)
            )
        )
        racing.start()
        time.sleep(0.5)
    racing.join(timeout=30)

    assert sorted(results, key=repr) == [False, False, False, True], results
    assert len(outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
