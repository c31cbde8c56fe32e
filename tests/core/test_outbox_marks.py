"""``deliver_many`` marks what the mail server accepted together, within a bounded window: a
worker that dies leaves sent and unmarked at most one chunk's messages, sent within
``MARK_WITHIN`` seconds before the one in flight."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import outbox as outbox_service
from core.models import OutboxMessage, OutboxStatus
from tests.core.backends import MarksWatchingBackend, WorkerKilled
from tests.core.conftest import make_row

pytestmark = pytest.mark.django_db

WATCHING = "tests.core.backends.MarksWatchingBackend"


@pytest.fixture
def watching(outbox, settings, monkeypatch):
    settings.EMAIL_DELIVERY_BACKEND = WATCHING
    monkeypatch.setattr(MarksWatchingBackend, "marked_before_each", [])
    monkeypatch.setattr(MarksWatchingBackend, "die_at", None)
    monkeypatch.setattr(MarksWatchingBackend, "takes", 0.0)
    return outbox


def marking_updates(queries) -> int:
    return sum(
        1 for query in queries if query["sql"].startswith("UPDATE") and "sent_at" in query["sql"]
    )


def test_a_chunk_accepted_at_once_is_marked_sent_by_one_update(watching, monkeypatch):
    monkeypatch.setattr(outbox_service, "MARK_WITHIN", 3600)
    rows = [make_row(to=f"member{i}@example.org") for i in range(outbox_service.CHUNK)]

    with CaptureQueriesContext(connection) as queries:
        outcome = outbox_service.deliver_many([row.pk for row in rows])

    assert outcome == {row.pk: True for row in rows}
    assert marking_updates(queries.captured_queries) == 1
    assert len(watching) == outbox_service.CHUNK
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_with_a_slow_server_each_row_is_marked_before_the_next_is_sent(watching, monkeypatch):
    monkeypatch.setattr(outbox_service, "MARK_WITHIN", 0.01)
    monkeypatch.setattr(MarksWatchingBackend, "takes", 0.02)
    rows = [make_row(to=f"member{i}@example.org") for i in range(5)]

    outbox_service.deliver_many([row.pk for row in rows])

    assert MarksWatchingBackend.marked_before_each == [0, 1, 2, 3, 4]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_with_a_fast_server_rows_are_marked_once_they_have_taken_the_time_to_send(
    watching, monkeypatch
):
    # Time as the outbox sees it passes only while the server accepts a message: the test
    # counts the same on a busy machine. (Fractions of two, exact in binary.)
    clock = [0.0]
    monkeypatch.setattr(outbox_service, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(MarksWatchingBackend, "clock", clock)
    monkeypatch.setattr(outbox_service, "MARK_WITHIN", 1.0)
    monkeypatch.setattr(MarksWatchingBackend, "takes", 0.25)
    rows = [make_row(to=f"member{i}@example.org") for i in range(12)]

    outbox_service.deliver_many([row.pk for row in rows])

    # Before each message, the rows accepted and not yet marked: together, never more than
    # took MARK_WITHIN to send (four messages of a quarter, and the one that passed the time).
    unmarked = [i - marked for i, marked in enumerate(MarksWatchingBackend.marked_before_each)]
    assert max(unmarked) <= 6
    assert max(unmarked) >= 2
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_an_error_that_stops_the_chunk_leaves_what_was_accepted_marked(watching, monkeypatch):
    # (A SIGKILL runs nothing more: that is the window above. Anything that unwinds does.)
    monkeypatch.setattr(outbox_service, "MARK_WITHIN", 3600)
    monkeypatch.setattr(MarksWatchingBackend, "die_at", 3)
    rows = [make_row(to=f"member{i}@example.org") for i in range(6)]

    with pytest.raises(WorkerKilled):
        outbox_service.deliver_many([row.pk for row in rows])

    statuses = dict(OutboxMessage.objects.values_list("pk", "status"))
    assert [statuses[row.pk] for row in rows] == [OutboxStatus.SENT] * 3 + [
        OutboxStatus.SENDING
    ] * 3
    assert len(watching) == 3
