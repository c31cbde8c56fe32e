from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from events import services
from events.models import Event, FeeBasis, RegistrationStatus
from tests.events.conftest import DETAILS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_representative_of_a_member_pays_the_member_fee(event, representative, member_org):
    registration = services.register(event=event, user=representative, details=DETAILS)

    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.amount == Decimal("150")
    assert registration.fee_basis == FeeBasis.MEMBER
    assert registration.member_organisation == member_org
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_a_contact_pays_the_member_fee_and_a_stranger_the_non_member_fee(event, contact, outsider):
    assert services.register(event=event, user=contact, details=DETAILS).amount == 150
    assert services.register(event=event, user=outsider, details=DETAILS).amount == 250


def test_a_full_event_puts_the_next_person_on_its_waitlist(event, outsider):
    Event.objects.filter(pk=event.pk).update(capacity=1)
    event.refresh_from_db()
    services.register(event=event, user=UserFactory(), details=DETAILS)

    waiting = services.register(event=event, user=outsider, details=DETAILS)

    assert waiting.status == RegistrationStatus.WAITLISTED
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_a_second_registration_of_the_same_person_is_refused(event, outsider):
    services.register(event=event, user=outsider, details=DETAILS)
    with pytest.raises(ValidationError, match="already registered"):
        services.register(event=event, user=outsider, details=DETAILS)


def test_a_freed_seat_goes_to_the_member_first_at_the_fee_of_the_day(
    event, outsider, representative, mailoutbox
):
    Event.objects.filter(pk=event.pk).update(capacity=1)
    event.refresh_from_db()
    holder = services.register(event=event, user=UserFactory(), details=DETAILS)
    first_in_line = services.register(event=event, user=outsider, details=DETAILS)
    member = services.register(event=event, user=representative, details=DETAILS)
    assert first_in_line.is_waitlisted and member.is_waitlisted

    services.cancel_registration(registration=holder, by=holder.user)

    member.refresh_from_db()
    first_in_line.refresh_from_db()
    assert member.status == RegistrationStatus.CONFIRMED
    assert member.amount == 150
    assert first_in_line.status == RegistrationStatus.WAITLISTED
    promoted = [m for m in mailoutbox if m.to == [representative.email]][-1]
    assert "freed up" in promoted.body
    assert promoted.attachments[0][0] == "event.ics"


def test_cancelling_the_meeting_registration_cancels_the_visits_that_require_it(
    outsider, mailoutbox
):
    from tests.factories import EventFactory

    meeting = EventFactory(kind="annual_meeting")
    visit = EventFactory(
        kind="visit", parent=meeting, capacity=1, requires_parent_registration=True
    )
    open_visit = EventFactory(kind="visit", parent=meeting, capacity=5)
    on_meeting = services.register(event=meeting, user=outsider, details=DETAILS)
    on_visit = services.register(event=visit, user=outsider, details=DETAILS)
    on_open_visit = services.register(event=open_visit, user=outsider, details=DETAILS)
    other = UserFactory()
    services.register(event=meeting, user=other, details=DETAILS)
    waiting = services.register(event=visit, user=other, details=DETAILS)
    assert waiting.is_waitlisted

    services.cancel_registration(registration=on_meeting, by=outsider)

    on_visit.refresh_from_db()
    on_open_visit.refresh_from_db()
    waiting.refresh_from_db()
    assert on_visit.status == RegistrationStatus.CANCELLED
    assert on_open_visit.status == RegistrationStatus.CONFIRMED  # open to anyone: it stays
    assert waiting.status == RegistrationStatus.CONFIRMED  # the freed visit seat went on
    assert any("with your registration to" in m.body for m in mailoutbox)
