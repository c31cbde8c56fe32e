"""Members' representatives and contacts are subscribed as soon as they join, not at the next
daily sync: the members' services announce them after their commit (members.signals), the
newsletter subscribes them in their language; whoever unsubscribed stays unsubscribed."""

import datetime

import pytest
from django.utils import timezone

from members.models import MembershipKind, Qualification, RepresentativeStatus
from members.services import accept_designation, designate_representative, start_membership
from members.services.contacts import add_contact
from newsletter import services
from newsletter.models import Subscriber, SubscriberSource, SubscriberStatus
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    RepresentativeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_here(monkeypatch):
    """The subscription is a task queued after the commit: run here, as without a broker."""
    from icpc_portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def subscribed(user) -> Subscriber | None:
    return Subscriber.objects.filter(user=user, status=SubscriberStatus.SUBSCRIBED).first()


def test_a_contact_added_by_the_representative_is_subscribed_in_their_language(committed):
    membership = MembershipFactory()
    representative = RepresentativeFactory(organisation=membership.organisation).user

    with committed():
        contact = add_contact(
            membership=membership,
            email="collegue@ville.example",
            first_name="Inès",
            last_name="Roy",
            language="fr",
            by=representative,
        )

    subscriber = subscribed(contact.user)
    assert subscriber is not None
    assert subscriber.language == "fr"
    assert subscriber.source == SubscriberSource.MEMBER


def test_a_new_member_representative_is_subscribed_when_the_membership_starts(committed):
    organisation = OrganisationFactory()
    person = UserFactory()
    with committed():
        designate_representative(
            organisation=organisation,
            user=person,
            title="Director",
            qualification=Qualification.DIRECTOR,
            on=timezone.localdate(),
        )
    assert subscribed(person) is None  # not a member yet

    with committed():
        start_membership(
            organisation=organisation,
            kind=MembershipKind.GENERAL,
            on=timezone.localdate(),
            by=None,
            reason="Approved by the Board",
        )

    assert subscribed(person) is not None


def test_a_designated_person_is_subscribed_once_they_accept(committed):
    membership = MembershipFactory()
    person = UserFactory()
    with committed():
        designation = designate_representative(
            organisation=membership.organisation,
            user=person,
            title="Director",
            qualification=Qualification.DIRECTOR,
            on=timezone.localdate(),
            accepted=False,
        )
    assert designation.status == RepresentativeStatus.PROPOSED
    assert subscribed(person) is None

    with committed():
        accept_designation(representative=designation, by=person)

    assert subscribed(person) is not None


def test_an_honorary_member_appointed_in_person_is_subscribed(committed):
    person = UserFactory()
    with committed():
        start_membership(
            person=person,
            kind=MembershipKind.HONORARY,
            on=timezone.localdate(),
            by=None,
            reason="Appointed by the Board",
        )
    assert subscribed(person) is not None


def test_someone_who_unsubscribed_stays_unsubscribed_when_they_join_again(committed):
    membership = MembershipFactory()
    representative = RepresentativeFactory(organisation=membership.organisation).user
    former = UserFactory(email="former@example.org")
    services.subscribe(email=former.email, language="en")
    subscriber = Subscriber.objects.get(email=former.email)
    services.confirm_subscription(subscriber=subscriber)
    services.unsubscribe(subscriber=subscriber)

    with committed():
        add_contact(
            membership=membership,
            email=former.email,
            first_name="Former",
            last_name="Subscriber",
            language="en",
            by=representative,
        )

    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED


def test_the_representative_of_a_lapsed_member_is_not_subscribed(committed):
    long_ago = timezone.localdate() - datetime.timedelta(days=500)
    lapsed = MembershipFactory(
        started_on=long_ago,
        period_start=long_ago,
        period_end=long_ago + datetime.timedelta(days=364),
    )
    person = UserFactory()
    with committed():
        designate_representative(
            organisation=lapsed.organisation,
            user=person,
            title="Director",
            qualification=Qualification.DIRECTOR,
            on=timezone.localdate(),
        )
    assert subscribed(person) is None
