"""Exactly one copy each under concurrency, on real PostgreSQL transactions: two starts at once,
and two workers sending the same edition at once."""

from collections import Counter

import pytest

from core.models import OutboxMessage
from newsletter import services
from newsletter.models import Delivery, DeliveryStatus
from tests.concurrency import race
from tests.factories import EditionFactory, SubscriberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_starts_at_once_make_one_delivery_per_subscriber(postgres, outbox):
    SubscriberFactory.create_batch(20)
    edition = EditionFactory()

    results = race(
        lambda: services.start_sending(edition=edition, queue=False),
        lambda: services.start_sending(edition=edition, queue=False),
    )

    assert results == [20, 20]
    assert Counter(Delivery.objects.values_list("subscriber_id", flat=True)) == Counter(
        {pk: 1 for pk in Delivery.objects.values_list("subscriber_id", flat=True)}
    )
    assert Delivery.objects.count() == 20


def test_two_workers_sending_at_once_send_one_email_each(postgres, outbox):
    subscribers = SubscriberFactory.create_batch(40)
    edition = EditionFactory()
    services.start_sending(edition=edition, queue=False)

    def worker():
        return services.send_edition(edition_id=edition.pk, batch_size=5, budget=None)

    first, second = race(worker, worker)

    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    assert first.queued > 0 and second.queued > 0  # both took batches
    assert first.queued + second.queued == 40
    assert Counter(m.to[0] for m in outbox) == Counter({s.email: 1 for s in subscribers})
    assert OutboxMessage.objects.count() == 40
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
