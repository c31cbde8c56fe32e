"""Who pays the member fee: only a member in good standing on the day the seat is given, through
its representative, its contacts or an honorary member's own name. Everyone else, whatever
their past membership or whatever a form sends, pays the non-member fee."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Event, FeeAudience, FeeBasis, FeeTier, Registration, RegistrationStatus
from members.models import Contact, EndReason, Membership, MembershipKind
from members.services import end_membership
from members.services.contacts import remove_contact
from tests.events.conftest import DETAILS
from tests.factories import (
    EventFactory,
    FeeTierFactory,
    MembershipFactory,
    RepresentativeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MEMBER_FEE = Decimal("150")
NON_MEMBER_FEE = Decimal("250")


def assert_pays_the_non_member_fee(registration: Registration) -> None:
    registration.refresh_from_db()
    assert registration.amount == NON_MEMBER_FEE
    assert registration.fee_basis == FeeBasis.NON_MEMBER
    assert registration.fee_name == "Non-member fee"
    assert registration.member_organisation is None
    assert registration.joined_as_member is False


def representative_of(membership: Membership):
    return RepresentativeFactory(organisation=membership.organisation).user


def test_the_representative_of_a_member_whose_period_ran_out_pays_the_non_member_fee(event):
    today = timezone.localdate()
    # Still "active": the yearly renewal job has not run yet, but its period ended last month.
    lapsed = MembershipFactory(
        started_on=today - datetime.timedelta(days=400),
        period_start=today - datetime.timedelta(days=400),
        period_end=today - datetime.timedelta(days=35),
    )
    assert lapsed.is_active

    registration = services.register(event=event, user=representative_of(lapsed), details=DETAILS)

    assert_pays_the_non_member_fee(registration)


def test_the_representative_of_a_member_that_resigned_pays_the_non_member_fee(event):
    membership = MembershipFactory()
    person = representative_of(membership)
    end_membership(
        membership=membership,
        reason=EndReason.RESIGNED,
        note="Our council merged with the region.",
        on=timezone.localdate(),
        by=person,
    )

    registration = services.register(event=event, user=person, details=DETAILS)

    assert_pays_the_non_member_fee(registration)


def test_the_representative_of_a_dismissed_member_pays_the_non_member_fee(event, centre_staff):
    membership = MembershipFactory()
    person = representative_of(membership)
    end_membership(
        membership=membership,
        reason=EndReason.DISMISSED,
        note="Dismissed by the Board.",
        on=timezone.localdate(),
        by=centre_staff,
        tell=False,
    )

    registration = services.register(event=event, user=person, details=DETAILS)

    assert_pays_the_non_member_fee(registration)


def test_a_contact_the_representative_removed_pays_the_non_member_fee(
    event, member_org, representative, contact
):
    remove_contact(contact=Contact.objects.get(user=contact), by=representative)

    registration = services.register(event=event, user=contact, details=DETAILS)

    assert_pays_the_non_member_fee(registration)


def test_forged_fee_fields_on_the_form_change_nothing(client, event, outsider, member_org):
    member_tier = FeeTier.objects.get(event=event, audience=FeeAudience.MEMBERS)
    client.force_login(outsider)

    response = client.post(
        reverse("events:register", args=[event.slug]),
        {
            **{name: value for name, value in DETAILS.items() if name != "listed"},
            "listed": "on",
            "amount": "0",
            "fee_tier": str(member_tier.pk),
            "fee_basis": "member",
            "fee_name": "Member fee",
            "member_organisation": str(member_org.pk),
            "joined_as_member": "on",
            "status": "confirmed",
            "paid_at": "2020-01-01 00:00",
        },
    )

    assert response.status_code == 302
    registration = Registration.objects.get(event=event, user=outsider)
    assert_pays_the_non_member_fee(registration)
    assert registration.fee_tier != member_tier
    assert registration.paid_at is None
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.job_title == DETAILS["job_title"]  # what the attendee may set is kept


def test_a_forged_status_does_not_take_a_seat_of_a_full_event(client, event, outsider):
    Event.objects.filter(pk=event.pk).update(capacity=1)
    services.register(event=Event.objects.get(pk=event.pk), user=UserFactory(), details=DETAILS)
    client.force_login(outsider)

    client.post(
        reverse("events:register", args=[event.slug]),
        {"first_name": "Ana", "last_name": "Lopez", "status": "confirmed"},
    )

    registration = Registration.objects.get(event=event, user=outsider)
    assert registration.status == RegistrationStatus.WAITLISTED
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_an_honorary_member_in_good_standing_pays_the_member_fee(event):
    person = UserFactory()
    # Honorary memberships are not renewed: a period long past does not end the good standing.
    MembershipFactory(
        organisation=None,
        person=person,
        kind=MembershipKind.HONORARY,
        started_on=datetime.date(2015, 5, 1),
        period_start=datetime.date(2015, 5, 1),
        period_end=datetime.date(2016, 4, 30),
    )

    registration = services.register(event=event, user=person, details=DETAILS)

    assert registration.amount == MEMBER_FEE
    assert registration.fee_basis == FeeBasis.MEMBER
    assert registration.member_organisation is None  # in their own name
    assert registration.joined_as_member is True


def test_the_early_bird_fee_applies_to_its_last_day_and_not_the_day_after():
    event = EventFactory(starts_at=timezone.now() + datetime.timedelta(days=60))
    zone = timezone.get_current_timezone()
    last_day = timezone.localdate() + datetime.timedelta(days=5)
    FeeTierFactory(event=event, name="Early-bird", amount=200, available_until=last_day)
    FeeTierFactory(event=event, name="Non-member fee", amount=250)
    late_on_last_day = datetime.datetime.combine(last_day, datetime.time(23, 59), tzinfo=zone)
    early_next_day = late_on_last_day + datetime.timedelta(minutes=2)

    in_time = services.register(
        event=event, user=UserFactory(), details=DETAILS, now=late_on_last_day
    )
    too_late = services.register(
        event=event, user=UserFactory(), details=DETAILS, now=early_next_day
    )

    assert (in_time.fee_name, in_time.amount) == ("Early-bird", Decimal("200"))
    assert (too_late.fee_name, too_late.amount) == ("Non-member fee", Decimal("250"))
    assert too_late.fee_basis == FeeBasis.NON_MEMBER


def test_the_early_bird_fee_ending_today_is_chosen_today_and_not_tomorrow():
    event = EventFactory()
    today = timezone.localdate()
    FeeTierFactory(event=event, name="Early-bird", amount=200, available_until=today)
    FeeTierFactory(event=event, name="Non-member fee", amount=250)
    now = timezone.now()

    today_registration = services.register(event=event, user=UserFactory(), details=DETAILS)
    tomorrow_registration = services.register(
        event=event, user=UserFactory(), details=DETAILS, now=now + datetime.timedelta(days=1)
    )

    assert today_registration.amount == Decimal("200")
    assert tomorrow_registration.amount == Decimal("250")


def test_a_members_only_event_refuses_a_non_member_on_the_form_keeping_what_was_typed(
    client, outsider
):
    event = EventFactory()
    FeeTierFactory(event=event, name="Member fee", audience=FeeAudience.MEMBERS, amount=0)
    client.force_login(outsider)

    response = client.post(
        reverse("events:register", args=[event.slug]),
        {**{name: value for name, value in DETAILS.items() if name != "listed"}, "listed": "on"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "open to members of the Centre in good standing only" in page
    assert 'value="Prevention officer"' in page
    assert 'value="Ana"' in page
    assert not Registration.objects.filter(event=event).exists()
    event.refresh_from_db()
    assert event.seats_taken == 0


def test_a_waitlisted_member_whose_membership_lapsed_pays_the_non_member_fee_and_is_told(
    event, representative, member_org, mailoutbox
):
    Event.objects.filter(pk=event.pk).update(capacity=1)
    event.refresh_from_db()
    holder = services.register(event=event, user=UserFactory(), details=DETAILS)
    waiting = services.register(event=event, user=representative, details=DETAILS)
    assert waiting.is_waitlisted and waiting.joined_as_member
    assert waiting.member_organisation == member_org
    # Before the seat frees up, the membership's period runs out.
    today = timezone.localdate()
    Membership.objects.filter(organisation=member_org).update(
        period_start=today - datetime.timedelta(days=366),
        period_end=today - datetime.timedelta(days=1),
    )
    mailoutbox.clear()

    services.cancel_registration(registration=holder, by=holder.user)

    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert waiting.amount == NON_MEMBER_FEE
    assert waiting.fee_basis == FeeBasis.NON_MEMBER
    assert waiting.member_organisation is None
    (promoted,) = [m for m in mailoutbox if m.to == [representative.email]]
    assert "freed up" in promoted.body
    assert "no longer in good standing" in promoted.body
    assert "non-member fee applies" in promoted.body
    assert "250.00 CAD" in promoted.body


def members_only_event_with_a_lapsed_member_waiting(member_org, representative):
    """A members-only event with one seat, taken, and the representative of ``member_org``
    waiting for it; then the organisation's membership lapses."""
    event = EventFactory(capacity=1)
    FeeTierFactory(event=event, name="Member fee", audience=FeeAudience.MEMBERS, amount=0)
    other_member = RepresentativeFactory(organisation=MembershipFactory().organisation).user
    holder = services.register(event=event, user=other_member, details=DETAILS)
    waiting = services.register(event=event, user=representative, details=DETAILS)
    assert holder.is_confirmed and waiting.is_waitlisted
    today = timezone.localdate()
    Membership.objects.filter(organisation=member_org).update(
        period_start=today - datetime.timedelta(days=366),
        period_end=today - datetime.timedelta(days=1),
    )
    return event, holder, waiting


def test_a_lapsed_member_waiting_for_a_members_only_event_leaves_the_waitlist_when_a_seat_frees(
    member_org, representative, mailoutbox
):
    event, holder, waiting = members_only_event_with_a_lapsed_member_waiting(
        member_org, representative
    )
    mailoutbox.clear()

    services.cancel_registration(registration=holder, by=holder.user)

    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.CANCELLED
    (told,) = [m for m in mailoutbox if m.to == [representative.email]]
    assert "You have left the waitlist" in told.body
    event.refresh_from_db()
    assert event.seats_taken == 0


def test_staff_promoting_a_lapsed_member_to_a_members_only_event_are_refused_and_it_leaves(
    member_org, representative, centre_staff, mailoutbox
):
    event, holder, waiting = members_only_event_with_a_lapsed_member_waiting(
        member_org, representative
    )
    mailoutbox.clear()

    with pytest.raises(ValidationError, match="no longer qualifies .* left the waitlist"):
        services.promote(registration=waiting, by=centre_staff, add_seat=True)

    # What the message says is true: they left the waitlist and were told; no seat was added.
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.CANCELLED
    (told,) = [m for m in mailoutbox if m.to == [representative.email]]
    assert "You have left the waitlist" in told.body
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (1, 1)


def test_the_member_fee_query_is_one_sqlite_accepts_too(outsider):
    """`make run` uses SQLite, which refuses an ORDER BY inside a UNION: the query that finds a
    person's organisations must compile for it as for PostgreSQL."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from members.models import organisations_of

    sqlite = DatabaseWrapper(
        {**connection.settings_dict, "ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    )
    sql, _params = organisations_of(outsider).query.get_compiler(connection=sqlite).as_sql()

    assert "UNION" in sql
