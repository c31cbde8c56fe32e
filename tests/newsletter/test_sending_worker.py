"""An edition sent by a real Celery worker, over Redis, to a real SMTP server (aiosmtpd, in the
test), against real PostgreSQL: the worker is killed half-way, another one finishes, and the
sink counts exactly one copy per subscriber, none for those who unsubscribed.

The SMTP sink waits a little on each recipient (before it accepts the message), so that the
sending takes a few seconds and the kill lands between a message's start and its acceptance,
where it leaves the outbox row claimed ("sending"). That claim is released as the outbox's
sweep does once the lease has run out (the test moves the clock instead of waiting ten
minutes), and the next worker sends that message once. Workers, broker keys and the sink are
removed whatever the outcome.
"""

import asyncio
import datetime
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from django.utils import timezone

from core import outbox as core_outbox
from core.models import OutboxMessage, OutboxStatus
from newsletter import services
from newsletter.models import Delivery, DeliveryStatus, Edition, EditionStatus, SubscriberStatus
from tests.celery_workers import Workers, wait_for
from tests.factories import EditionFactory, SubscriberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """An SMTP server that keeps every message it accepted."""

    def __init__(self, delay: float) -> None:
        from aiosmtpd.controller import Controller

        self.delay = delay
        self.lock = threading.Lock()
        self.received: list[tuple[str, bytes]] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.delay)  # before the message is accepted
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            for address in envelope.rcpt_tos:
                self.received.append((address, envelope.content))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller.start()

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def copies(self) -> Counter[str]:
        with self.lock:
            return Counter(address for address, _content in self.received)

    def messages(self):
        with self.lock:
            return [message_from_bytes(content) for _address, content in self.received]


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink(delay=0.08)
    server.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def workers(postgres, redis_url, sink, tmp_path) -> Iterator[Workers]:
    pool = Workers(
        redis_url.rsplit("/", 1)[0] + "/14",
        email_url=f"smtp://127.0.0.1:{sink.port}",
        logs=tmp_path,
        label="newsletter",
    )
    try:
        yield pool
    finally:
        pool.stop_all()


def test_a_worker_killed_half_way_leaves_every_subscriber_exactly_one_copy(workers, sink, settings):
    readers = SubscriberFactory.create_batch(30)
    gone = SubscriberFactory.create_batch(2, status=SubscriberStatus.UNSUBSCRIBED)
    edition = EditionFactory()
    services.start_sending(edition=edition, queue=False)
    worker = workers.start()

    workers.queue(services.SEND_TASK, edition.pk, 4)
    assert wait_for(lambda: sink.count() >= 10), "the sending never started"
    workers.kill(worker)

    # Half-way: some copies delivered, the rest pending or in the outbox; one may be in flight.
    delivered = sink.count()
    assert 10 <= delivered < 30
    assert Edition.objects.get(pk=edition.pk).status == EditionStatus.SENDING
    # Left claimed: the message in flight and the rest of its chunk, never tried.
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENDING).count() <= core_outbox.CHUNK
    # Someone unsubscribes while the sending is stopped: their copy is not sent.
    waiting = (
        Delivery.objects.filter(edition=edition, status=DeliveryStatus.PENDING)
        .order_by("-pk")
        .first()
    )
    assert waiting is not None
    services.unsubscribe(subscriber=waiting.subscriber)
    # The beat takes over an edition no worker stamped for a while...
    later = timezone.now() + datetime.timedelta(seconds=services.STALE_SECONDS + 1)
    assert services.editions_to_send(now=later) == [edition.pk]
    # ...and the sweep releases a claim whose lease ran out (the message in flight).
    settings.OUTBOX_CLAIM_LEASE = 0
    core_outbox.release_expired_claims()

    workers.start()
    workers.queue(services.SEND_TASK, edition.pk, 4)

    def finished() -> bool:
        return (
            Edition.objects.get(pk=edition.pk).status == EditionStatus.SENT
            and not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()
        )

    assert wait_for(finished, seconds=60), "the second worker did not finish"
    expected = {s.email for s in readers} - {waiting.subscriber.email}
    assert sink.copies() == Counter({address: 1 for address in expected})
    assert not {s.email for s in gone} & set(sink.copies())
    assert Counter(Delivery.objects.values_list("subscriber_id", flat=True)) == Counter(
        {s.pk: 1 for s in readers}
    )
    # What the mail server received carries the one-click unsubscribe headers.
    message = sink.messages()[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<https://" in message["List-Unsubscribe"] or "<http://" in message["List-Unsubscribe"]
    assert "mailto:unsubscribe+" in message["List-Unsubscribe"]
