import subprocess
import sys
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage, send_mail
from django.db import transaction

from core.mail import message_from_dict, message_to_dict
from core.tasks import send_email
from icpc_portal.celery import app as celery_app

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def queued_email(settings, mailoutbox, monkeypatch):
    """Mail goes through the queue; tasks run in-process unless a test starts a worker."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.EMAIL_BACKEND = "core.mail.CeleryEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    return mailoutbox


def test_message_survives_the_trip_through_json():
    original = EmailMessage("Subject é", "Body", "from@example.org", ["to@example.org"])
    original.reply_to = ["reply@example.org"]
    data = message_to_dict(original)
    again = message_from_dict(data)
    assert (again.subject, again.body, again.to, again.reply_to) == (
        "Subject é",
        "Body",
        ["to@example.org"],
        ["reply@example.org"],
    )
    assert data["headers"]["Message-ID"].endswith("@portal.cipc-icpc.org>")


@pytest.mark.django_db
def test_email_is_queued_only_when_the_transaction_commits(
    queued_email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            send_mail("Kept", "body", None, ["kept@example.org"])
        assert queued_email == []  # nothing leaves before the commit
    assert [m.to for m in queued_email] == [["kept@example.org"]]


@pytest.mark.django_db
def test_email_of_a_rolled_back_change_is_never_sent(
    queued_email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                send_mail("Lost", "body", None, ["lost@example.org"])
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        send_mail("Sent", "body", None, ["sent@example.org"])
    assert len(callbacks) == 1
    assert [m.subject for m in queued_email] == ["Sent"]


@pytest.mark.django_db
def test_a_redelivered_message_is_not_sent_twice(queued_email):
    data = message_to_dict(EmailMessage("Once", "body", "f@example.org", ["to@example.org"]))
    assert send_email.apply(args=(data,)).get() == 1
    assert send_email.apply(args=(data,)).get() == 0
    assert [m.subject for m in queued_email] == ["Once"]


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_delivers_the_email(queued_email, redis_url, monkeypatch):
    broker = redis_url.rsplit("/", 1)[0] + "/15"  # a database of its own
    monkeypatch.setitem(celery_app.conf, "broker_url", broker)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        send_mail("Welcome", "Hello from the queue", None, ["member@example.org"])
        deadline = time.monotonic() + 20
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [(m.subject, m.to) for m in mail.outbox] == [("Welcome", ["member@example.org"])]


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
        cwd=settings.BASE_DIR,
    )
    registered = set(done.stdout.split())
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"core.send_email", *scheduled} <= registered


@pytest.mark.django_db
def test_a_broker_that_is_down_never_turns_a_saved_change_into_an_error(
    settings, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    from core import tasks

    settings.EMAIL_BACKEND = "core.mail.CeleryEmailBackend"
    after_the_email = []

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(tasks.send_email, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        send_mail("Saved", "body", None, ["someone@example.org"])
        transaction.on_commit(lambda: after_the_email.append("ran"))

    assert after_the_email == ["ran"]  # later after-commit work still happens
    assert "broker unreachable" in caplog.text
