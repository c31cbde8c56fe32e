"""Emails go out through Celery after the commit; a broker that is down loses none of them."""

import logging
import subprocess
import sys
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import transaction

from core import outbox as outbox_service
from core.models import OutboxMessage, OutboxStatus
from core.tasks import deliver_email, sweep_outbox
from icpc_portal.celery import app as celery_app
from tests.core.conftest import CLOSED_PORT_BROKER, queue_drained, wait_for


def a_change_with_its_email() -> None:
    with transaction.atomic():
        Group.objects.create(name="Volunteers")
        send_mail("Welcome", "Hello from the outbox", None, ["member@example.org"])


def worker():
    return start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10)


def run_on_the_worker(broker: tuple[str, str], *tasks) -> None:
    """Queue the tasks and wait until the worker has run (and acknowledged) every one."""
    for task, args in tasks:
        task.delay(*args)
    assert wait_for(lambda: queue_drained(*broker)), "the worker did not run the tasks"
    time.sleep(0.3)  # a task just taken may not be in the unacknowledged set yet
    assert wait_for(lambda: queue_drained(*broker)), "the worker did not run the tasks"


@pytest.mark.django_db(transaction=True)
def test_an_email_saved_while_the_broker_is_down_is_delivered_once_it_is_back(
    outbox, use_broker, test_broker, caplog
):
    use_broker(CLOSED_PORT_BROKER)

    a_change_with_its_email()  # commits: queueing the delivery fails

    assert Group.objects.filter(name="Volunteers").exists()  # the change is saved
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert "deliver_email_after_commit" in caplog.text
    assert outbox == []

    use_broker(*test_broker)  # the broker is back, and a worker
    with worker():
        run_on_the_worker(test_broker, (sweep_outbox, ()))
        row.refresh_from_db()
        assert row.status == OutboxStatus.SENT
        # The lost delivery task turning up late, twice, and the next sweep: nothing more.
        run_on_the_worker(
            test_broker, (deliver_email, (row.pk,)), (deliver_email, (row.pk,)), (sweep_outbox, ())
        )

    assert [(m.to, m.subject, m.body) for m in outbox] == [
        (["member@example.org"], "Welcome", "Hello from the outbox")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_delivers_the_email_after_the_commit(outbox, use_broker, test_broker):
    use_broker(*test_broker)
    with worker():
        a_change_with_its_email()
        assert wait_for(lambda: len(outbox) > 0)
        run_on_the_worker(test_broker)

    assert [(m.to, m.subject) for m in outbox] == [(["member@example.org"], "Welcome")]
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


@pytest.mark.django_db
def test_a_broker_that_is_down_never_turns_a_saved_change_into_an_error(
    outbox, use_broker, django_capture_on_commit_callbacks, caplog
):
    use_broker(CLOSED_PORT_BROKER)
    after_the_email = []

    with (
        caplog.at_level(logging.ERROR),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        send_mail("Saved", "body", None, ["someone@example.org"])
        transaction.on_commit(lambda: after_the_email.append("ran"))

    assert after_the_email == ["ran"]  # later after-commit work still happens
    assert "deliver_email_after_commit" in caplog.text
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING
    assert outbox == []


def test_a_fresh_worker_process_knows_every_task_the_portal_queues():
    """The worker finds tasks through autodiscovery of each app's tasks.py: check it does,
    in a process of its own, as a real worker starts."""
    script = (
        "from icpc_portal.celery import app; app.loader.import_default_modules(); "
        "print('\\n'.join(sorted(app.tasks)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=django_settings.BASE_DIR,
    )
    registered = set(done.stdout.split())
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {outbox_service.DELIVER_TASK, "core.sweep_outbox", "core.purge_outbox"} <= scheduled | {
        outbox_service.DELIVER_TASK
    }
    assert {outbox_service.DELIVER_TASK, *scheduled} <= registered
