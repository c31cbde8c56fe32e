"""Sending an edition: who receives it, in which language, what it says, and exactly one copy
each, whether the job runs twice, in two threads at once, or stops half-way."""

import pytest
from django.core.exceptions import ValidationError

from core.models import OutboxMessage
from newsletter import services
from newsletter.models import (
    Audience,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Subscriber,
    SubscriberStatus,
)
from tests.factories import (
    ContactFactory,
    EditionFactory,
    EventFactory,
    MembershipFactory,
    RepresentativeFactory,
    SubscriberFactory,
    TopicFactory,
    UserFactory,
)
from tests.newsletter.conftest import send_now

pytestmark = pytest.mark.django_db


def recipients(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


def test_each_subscriber_gets_the_edition_in_their_language(outbox):
    SubscriberFactory(email="en@example.net", language="en")
    SubscriberFactory(email="fr@example.net", language="fr")
    edition = EditionFactory(subject_en="Spring news", subject_fr="Nouvelles du printemps")

    summary = send_now(edition)

    assert summary.finished and summary.queued == summary.sent == 2
    by_address = {message.to[0]: message for message in outbox}
    assert by_address["en@example.net"].subject == "[ICPC] Spring news"
    assert by_address["fr@example.net"].subject == "[ICPC] Nouvelles du printemps"
    assert "Des rues" in by_address["fr@example.net"].body
    edition.refresh_from_db()
    assert edition.status == EditionStatus.SENT and edition.sent_at is not None
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_an_edition_without_french_is_refused_unless_english_goes_to_french_subscribers(outbox):
    SubscriberFactory(language="fr")
    edition = EditionFactory(subject_fr="", body_fr="")

    with pytest.raises(ValidationError, match="French subject and text are missing"):
        services.start_sending(edition=edition, queue=False)
    with pytest.raises(ValidationError, match="French subject and text are missing"):
        services.schedule_edition(edition=edition, at=edition.created_at, by=None)
    edition.refresh_from_db()
    assert edition.status == EditionStatus.DRAFT
    assert not Delivery.objects.exists()

    Edition.objects.filter(pk=edition.pk).update(english_for_french=True)
    edition.refresh_from_db()
    send_now(edition)
    assert [message.subject for message in outbox] == [f"[ICPC] {edition.subject_en}"]


def test_members_only_reaches_the_representatives_and_contacts_of_members_in_good_standing(
    outbox,
):
    member = MembershipFactory().organisation
    representative = RepresentativeFactory(organisation=member).user
    contact = ContactFactory(organisation=member).user
    lapsed = MembershipFactory(status="ended", ended_on="2024-01-01", end_reason="resigned")
    RepresentativeFactory(organisation=lapsed.organisation, user__email="lapsed@example.org")
    UserFactory(email="account-only@example.org")
    SubscriberFactory(email="public@example.net")

    assert services.sync_member_subscribers() == 2
    assert services.sync_member_subscribers() == 0  # idempotent
    send_now(EditionFactory(audience=Audience.MEMBERS))

    assert recipients(outbox) == sorted([representative.email, contact.email])


def test_a_member_who_unsubscribed_is_never_subscribed_again(outbox):
    member = MembershipFactory().organisation
    person = RepresentativeFactory(organisation=member).user
    services.sync_member_subscribers()
    services.unsubscribe(subscriber=Subscriber.objects.get(user=person))

    assert services.sync_member_subscribers() == 0
    send_now(EditionFactory())

    assert outbox == []


def test_a_topic_edition_reaches_only_that_topics_subscribers(outbox):
    topic = TopicFactory()
    SubscriberFactory(email="topic@example.net").topics.add(topic)
    SubscriberFactory(email="other@example.net")

    send_now(EditionFactory(audience=Audience.TOPIC, topic=topic))

    assert recipients(outbox) == ["topic@example.net"]


def test_bouncing_and_unsubscribed_addresses_are_skipped_even_after_the_sending_started(outbox):
    keep = SubscriberFactory(email="keep@example.net")
    bounces = SubscriberFactory(email="bounces@example.net")
    leaves = SubscriberFactory(email="leaves@example.net")
    SubscriberFactory(email="bounced-before@example.net", status=SubscriberStatus.BOUNCING)
    edition = EditionFactory()
    services.start_sending(edition=edition, queue=False)
    assert Delivery.objects.count() == 3

    services.mark_bouncing(subscribers=[bounces], by=None)
    services.unsubscribe(subscriber=leaves)
    services.send_edition(edition_id=edition.pk, budget=None)

    assert recipients(outbox) == [keep.email]
    statuses = dict(Delivery.objects.values_list("subscriber__email", "status"))
    assert statuses == {
        "keep@example.net": DeliveryStatus.SENT,
        "bounces@example.net": DeliveryStatus.SKIPPED,
        "leaves@example.net": DeliveryStatus.SKIPPED,
    }


def test_the_upcoming_events_are_added_and_the_markdown_is_sanitized(outbox):
    SubscriberFactory()
    EventFactory(title="Safer nights colloquium")
    EventFactory(title="A draft no one sees", status="draft")
    edition = EditionFactory(
        body_en="Hello <script>alert(1)</script> [bad](javascript:alert(1)) <b style='x'>ok</b>"
    )

    send_now(edition)

    (message,) = outbox
    html = message.alternatives[0][0]
    assert "Safer nights colloquium" in html and "Safer nights colloquium" in message.body
    assert "A draft no one sees" not in html
    assert "<script" not in html and "javascript:" not in html and "style='x'" not in html


def test_starting_twice_makes_one_delivery_each_and_sending_twice_one_email_each(outbox):
    subscribers = SubscriberFactory.create_batch(5)
    edition = EditionFactory()

    services.start_sending(edition=edition, queue=False)
    services.start_sending(edition=edition, queue=False)
    services.send_edition(edition_id=edition.pk, batch_size=2, budget=None)
    services.send_edition(edition_id=edition.pk, batch_size=2, budget=None)

    assert Delivery.objects.count() == 5
    assert OutboxMessage.objects.count() == 5
    assert recipients(outbox) == sorted(s.email for s in subscribers)


def test_a_paused_edition_stops_between_batches_and_resumes_where_it_stopped(outbox):
    SubscriberFactory.create_batch(6)
    edition = EditionFactory()
    services.start_sending(edition=edition, queue=False)

    services.send_batch(edition_id=edition.pk, batch_size=2)
    services.pause_sending(edition=edition, by=None)
    paused = services.send_edition(edition_id=edition.pk, batch_size=2, budget=None)

    assert paused.queued == 0 and len(outbox) == 2
    services.resume_sending(edition=edition, by=None)
    services.send_edition(edition_id=edition.pk, batch_size=2, budget=None)
    assert len(outbox) == 6
    edition.refresh_from_db()
    assert edition.status == EditionStatus.SENT


def test_a_test_send_emails_both_versions_to_the_staff_member_only(outbox, staff_user, committed):
    SubscriberFactory()
    edition = EditionFactory()

    with committed():
        services.send_test(edition=edition, to=staff_user)

    assert recipients(outbox) == [staff_user.email, staff_user.email]
    assert [m.subject for m in outbox] == [
        f"[Test] [ICPC] {edition.subject_en}",
        f"[Test] [ICPC] {edition.subject_fr}",
    ]
    assert not Delivery.objects.exists()


def test_an_edition_is_sent_only_once_every_copy_has_left_the_outbox(outbox, monkeypatch):
    SubscriberFactory.create_batch(3)
    edition = EditionFactory()
    services.start_sending(edition=edition, queue=False)
    # The batch writes the emails, then runs out of time before sending any of them.
    monkeypatch.setattr(services, "deliver_many", lambda ids, **kwargs: {})

    result = services.send_batch(edition_id=edition.pk)

    assert result.queued == 3 and not result.done
    assert Edition.objects.get(pk=edition.pk).status == EditionStatus.SENDING
    summary = services.send_edition(edition_id=edition.pk, budget=None)
    assert summary.waiting and not summary.finished  # nothing it can send: it stops
    monkeypatch.undo()

    summary = services.send_edition(edition_id=edition.pk, budget=None)

    assert summary.finished
    assert Edition.objects.get(pk=edition.pk).status == EditionStatus.SENT
    assert len(recipients(outbox)) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_members_only_edition_reaches_a_representative_who_subscribed_on_the_public_page():
    membership = MembershipFactory()
    representative = RepresentativeFactory(organisation=membership.organisation).user
    # Subscribed on the public page before their organisation joined: no account link.
    SubscriberFactory(email=representative.email)
    SubscriberFactory(email="public@example.net")
    edition = EditionFactory(audience=Audience.MEMBERS)

    audience = set(services.audience_of(edition).values_list("email", flat=True))

    assert audience == {representative.email}
