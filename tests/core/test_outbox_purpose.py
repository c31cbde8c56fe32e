"""A purpose is queued once per recipient: a job run twice, or by two workers, sends one notice."""

import time

import pytest
from django.db import transaction

from core import outbox as outbox_service
from core.mail import PortalEmail
from core.models import OutboxMessage
from tests.concurrency import race


def reminder(to: str, purpose: str = "board-reminder:12") -> None:
    PortalEmail("Your vote is awaited", "Please vote.", to=[to], purpose=purpose).send()


@pytest.mark.django_db
def test_the_same_purpose_for_the_same_recipient_is_queued_once(
    outbox, django_capture_on_commit_callbacks
):
    for _run in range(2):  # the job runs twice
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            reminder("director@example.org")

    assert OutboxMessage.objects.count() == 1
    assert [m.to for m in outbox] == [["director@example.org"]]


@pytest.mark.django_db
def test_the_same_purpose_is_queued_for_another_recipient(
    outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reminder("director@example.org")
        reminder("president@example.org")
        reminder("director@example.org", purpose="board-reminder:13")

    assert OutboxMessage.objects.count() == 3
    assert sorted(m.to[0] for m in outbox) == [
        "director@example.org",
        "director@example.org",
        "president@example.org",
    ]


@pytest.mark.django_db
def test_the_address_is_the_same_recipient_whatever_its_case(outbox):
    assert outbox_service.enqueue(to="Director@Example.org", subject="s", body="b", purpose="p")
    assert (
        outbox_service.enqueue(to="director@example.org", subject="s", body="b", purpose="p")
        is None
    )
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_emails_without_a_purpose_are_never_taken_for_duplicates(outbox):
    for _ in range(2):
        assert outbox_service.enqueue(to="someone@example.org", subject="Reset", body="b")

    assert OutboxMessage.objects.count() == 2


@pytest.mark.django_db
def test_a_duplicate_leaves_the_rest_of_the_callers_transaction_intact(
    outbox, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reminder("director@example.org")
        reminder("director@example.org")  # refused by the constraint, inside a savepoint
        Group.objects.create(name="After the duplicate")  # the transaction still works

    assert Group.objects.filter(name="After the duplicate").exists()
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_jobs_racing_to_queue_the_same_notice_queue_it_once(outbox, postgres):
    def job():
        with transaction.atomic():
            queued = outbox_service.enqueue(
                to="director@example.org", subject="Vote", body="b", purpose="board-reminder:12"
            )
            time.sleep(0.3)  # the other job inserts meanwhile, and waits for this commit
        return queued

    results = race(job, job)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r is None for r in results) == [False, True]
    assert OutboxMessage.objects.count() == 1
    assert [m.to for m in outbox] == [["director@example.org"]]
