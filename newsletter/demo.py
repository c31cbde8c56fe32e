"""The newsletter's demo data for seed_demo: two topics, the members' representatives and
contacts subscribed (the same service as the daily job), public subscribers in English and
French (one awaiting confirmation, one unsubscribed), an edition already sent and a draft."""

import datetime

from django.db import transaction
from django.utils import timezone

from core.demo import DemoContext

from . import services
from .models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Subscriber,
    SubscriberStatus,
    Topic,
)

TOPICS = [("Urban safety", "Sécurité urbaine"), ("Youth and prevention", "Jeunesse et prévention")]

PUBLIC = [
    ("reader.en1@example.org", "en", SubscriberStatus.SUBSCRIBED),
    ("reader.en2@example.org", "en", SubscriberStatus.SUBSCRIBED),
    ("lecteur.fr1@example.org", "fr", SubscriberStatus.SUBSCRIBED),
    ("lectrice.fr2@example.org", "fr", SubscriberStatus.SUBSCRIBED),
    ("waiting@example.org", "en", SubscriberStatus.PENDING),
    ("left@example.org", "fr", SubscriberStatus.UNSUBSCRIBED),
]

SENT_SUBJECT = "Safer cities: news from the network"
DRAFT_SUBJECT = "Preparing the next International Report"


def seed(ctx: DemoContext) -> None:
    with transaction.atomic():
        topics = _topics()
        services.sync_member_subscribers()
        _public_subscribers(topics)
        if not Edition.objects.filter(subject_en__in=[SENT_SUBJECT, DRAFT_SUBJECT]).exists():
            _sent_edition()
            _draft_edition()


def _topics() -> list[Topic]:
    topics = []
    for position, (en, fr) in enumerate(TOPICS):
        topic, _created = Topic.objects.get_or_create(
            name_en=en, defaults={"name_fr": fr, "position": position}
        )
        topics.append(topic)
    return topics


def _public_subscribers(topics: list[Topic]) -> None:
    now = timezone.now()
    for index, (email, language, status) in enumerate(PUBLIC):
        if Subscriber.objects.filter(email=email).exists():
            continue
        subscriber = services.new_public_subscriber(email=email, language=language, note="demo")
        if status != SubscriberStatus.PENDING:
            for step in (SubscriberStatus.SUBSCRIBED, status):
                if step != subscriber.status:
                    services.move_subscriber(subscriber, step, note="demo")
            subscriber.confirmed_at = now
            if status == SubscriberStatus.UNSUBSCRIBED:
                subscriber.unsubscribed_at = now
            subscriber.save()
        subscriber.topics.set(topics[index % 2 : index % 2 + 1])


def _sent_edition() -> None:
    """Sent two weeks ago to everyone then subscribed (marked sent: seeding emails no one)."""
    sent_at = timezone.now() - datetime.timedelta(days=14)
    edition = Edition(
        subject_en=SENT_SUBJECT,
        subject_fr="Villes plus sûres : nouvelles du réseau",
        body_en=(
            "Dear members and friends of the Centre,\n\n"
            "## This month\n\n"
            "- Three member cities share their **night-time economy** safety plans.\n"
            "- The call for contributions to the *International Report* is open.\n\n"
            "Read more on [the portal](https://cipc-icpc.org)."
        ),
        body_fr=(
            "Chers membres et amis du Centre,\n\n"
            "## Ce mois-ci\n\n"
            "- Trois villes membres partagent leurs plans de sécurité pour la **vie nocturne**.\n"
            "- L'appel à contributions pour le *Rapport international* est ouvert.\n\n"
            "Pour en savoir plus, consultez [le portail](https://cipc-icpc.org)."
        ),
    )
    services.create_edition(edition=edition, by=None)
    for step in (EditionStatus.SENDING, EditionStatus.SENT):
        services.move_edition(edition, step, by=None, note="demo")
    edition.started_at = edition.sent_at = sent_at
    edition.save()
    Delivery.objects.bulk_create(
        Delivery(edition=edition, subscriber=subscriber, status=DeliveryStatus.SENT)
        for subscriber in Subscriber.objects.receiving()
    )


def _draft_edition() -> None:
    edition = Edition(
        subject_en=DRAFT_SUBJECT,
        body_en=(
            "The Centre is preparing its next **International Report on Crime Prevention and "
            "Community Safety**. Members can submit their programmes until the end of the "
            "quarter."
        ),
    )
    services.create_edition(edition=edition, by=None)
