"""The staff's event screens: creating and editing events, the status buttons, the registration
list and its actions, the attendee export, the badges, the waitlist and the door page."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import (
    Event,
    EventKind,
    EventStatus,
    FeeAudience,
    FeeBasis,
    Registration,
    RegistrationStatus,
)
from tests.events.conftest import DETAILS
from tests.factories import (
    DirectorFactory,
    EventFactory,
    FeeTierFactory,
    MembershipFactory,
    RepresentativeFactory,
    UserFactory,
    with_member_and_public_fees,
    with_totp,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, centre_staff):
    client.force_login(with_totp(centre_staff))
    return client


@pytest.fixture
def director_client(client):
    client.force_login(DirectorFactory())
    return client


def sign_up(event: Event, *, first: str = "Ana", last: str = "Lopez", user=None, **details):
    return services.register(
        event=event,
        user=user or UserFactory(first_name=first, last_name=last),
        details={**DETAILS, "first_name": first, "last_name": last, **details},
    )


def full(event: Event, seats: int = 1) -> Event:
    Event.objects.filter(pk=event.pk).update(capacity=seats)
    event.refresh_from_db()
    return event


def url(name: str, event: Event) -> str:
    return reverse(f"admin:events_event_{name}", args=[event.pk])


def csv_rows(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# --- pages and who may see them ------------------------------------------------------------------


def test_the_event_pages_load_for_the_staff(staff_client, event):
    sign_up(event)
    agm = EventFactory(kind=EventKind.AGM)
    pages = [
        reverse("admin:events_event_changelist"),
        reverse("admin:events_event_add"),
        reverse("admin:events_event_change", args=[event.pk]),
        reverse("admin:events_registration_changelist") + f"?event={event.pk}",
        url("cancel", event),
        url("badges", event),
        url("waitlist", event),
        url("door", event),
        url("roll", agm),
    ]
    for page in pages:
        assert staff_client.get(page).status_code == 200, page
    assert staff_client.get(url("attendees_csv", event)).status_code == 200
    assert staff_client.get(url("roll_csv", agm)).status_code == 200


def test_the_event_page_links_to_its_screens(staff_client, event):
    page = staff_client.get(reverse("admin:events_event_change", args=[event.pk])).text

    for name in ("attendees_csv", "badges", "waitlist", "door", "cancel"):
        assert url(name, event) in page
    assert url("roll", event) not in page  # a seminar has no roll


def test_the_staff_screens_are_refused_to_a_director(director_client, event):
    agm = EventFactory(kind=EventKind.AGM)
    for page in [
        url("attendees_csv", event),
        url("badges", event),
        url("waitlist", event),
        url("door", event),
        url("cancel", event),
        url("roll", agm),
        url("roll_csv", agm),
    ]:
        assert director_client.get(page).status_code == 403, page
    assert director_client.post(url("publish", event)).status_code == 403


def test_the_staff_screens_send_a_visitor_to_sign_in(client, event):
    response = client.get(url("badges", event))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_seminar_has_no_roll(staff_client, event):
    assert staff_client.get(url("roll", event)).status_code == 404


# --- creating and editing an event ---------------------------------------------------------------


def event_form(**changes) -> dict[str, str]:
    data = {
        "kind": EventKind.SEMINAR,
        "parent": "",
        "title": "Night-time economy and safety",
        "slug": "night-time-economy",
        "summary": "Cities and their nights.",
        "programme": "",
        "time_zone": "Europe/Paris",
        "starts_at_0": "2031-06-10",
        "starts_at_1": "10:00",
        "ends_at_0": "2031-06-10",
        "ends_at_1": "17:00",
        "venue": "Hôtel de Ville",
        "city": "Paris",
        "country": "FR",
        "language": "fr",
        "capacity": "40",
        "registration_closes_at_0": "",
        "registration_closes_at_1": "",
        "cancellation_cutoff_0": "",
        "cancellation_cutoff_1": "",
        "currency": "EUR",
        "payment_instructions": "",
        "fee_tiers-TOTAL_FORMS": "1",
        "fee_tiers-INITIAL_FORMS": "0",
        "fee_tiers-MIN_NUM_FORMS": "0",
        "fee_tiers-MAX_NUM_FORMS": "1000",
        "fee_tiers-0-name": "Member fee",
        "fee_tiers-0-audience": FeeAudience.MEMBERS,
        "fee_tiers-0-amount": "90",
        "fee_tiers-0-available_until": "",
        "fee_tiers-0-position": "0",
        "status": EventStatus.PUBLISHED,  # not a field of the form: ignored
    }
    data.update(changes)
    return data


def test_a_new_event_starts_as_a_draft_with_its_fees_and_its_own_time_zone(staff_client):
    response = staff_client.post(reverse("admin:events_event_add"), event_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(slug="night-time-economy")
    assert event.status == EventStatus.DRAFT
    assert [(t.name, t.amount) for t in event.fee_tiers.all()] == [("Member fee", 90)]
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    assert event.starts_at == datetime.datetime(2031, 6, 10, 10, 0, tzinfo=paris)
    assert event.ends_at == datetime.datetime(2031, 6, 10, 17, 0, tzinfo=paris)


def test_the_change_form_shows_the_times_in_the_event_zone(staff_client):
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    event = EventFactory(
        time_zone="Europe/Paris",
        starts_at=datetime.datetime(2031, 6, 10, 10, 0, tzinfo=paris),
        ends_at=datetime.datetime(2031, 6, 10, 17, 0, tzinfo=paris),
    )

    page = staff_client.get(reverse("admin:events_event_change", args=[event.pk])).text

    assert 'name="starts_at_1" value="10:00:00"' in page


def test_a_visit_needs_its_annual_meeting(staff_client):
    meeting = EventFactory(kind=EventKind.ANNUAL_MEETING)
    without = staff_client.post(reverse("admin:events_event_add"), event_form(kind=EventKind.VISIT))
    assert without.status_code == 200
    assert "parent" in without.context["adminform"].form.errors

    response = staff_client.post(
        reverse("admin:events_event_add"),
        event_form(kind=EventKind.VISIT, parent=str(meeting.pk), slug="visit-1"),
    )

    assert response.status_code == 302
    visit = Event.objects.get(slug="visit-1")
    assert visit.parent == meeting
    page = staff_client.get(reverse("admin:events_event_change", args=[meeting.pk])).text
    assert "Professional visits of this meeting" in page
    assert reverse("admin:events_event_change", args=[visit.pk]) in page


def change_form_of(event: Event, **changes) -> dict[str, str]:
    local = event.starts_at.astimezone(event.zone)
    end = event.ends_at.astimezone(event.zone)
    tiers = list(event.fee_tiers.all())
    data = event_form(
        kind=event.kind,
        title=event.title,
        slug=event.slug,
        time_zone=event.time_zone,
        starts_at_0=local.date().isoformat(),
        starts_at_1=local.strftime("%H:%M"),
        ends_at_0=end.date().isoformat(),
        ends_at_1=end.strftime("%H:%M"),
        capacity="" if event.capacity is None else str(event.capacity),
        currency=event.currency,
        **{"fee_tiers-TOTAL_FORMS": str(len(tiers)), "fee_tiers-INITIAL_FORMS": str(len(tiers))},
    )
    history = event.status_changes.count()
    data.update(
        {
            "status_changes-TOTAL_FORMS": str(history),
            "status_changes-INITIAL_FORMS": str(history),
            "status_changes-MIN_NUM_FORMS": "0",
            "status_changes-MAX_NUM_FORMS": "1000",
        }
    )
    for n, change in enumerate(event.status_changes.order_by("at", "pk")):
        data[f"status_changes-{n}-id"] = str(change.pk)
        data[f"status_changes-{n}-event"] = str(event.pk)
    for n, tier in enumerate(tiers):
        data.update(
            {
                f"fee_tiers-{n}-id": str(tier.pk),
                f"fee_tiers-{n}-event": str(event.pk),
                f"fee_tiers-{n}-name": tier.name,
                f"fee_tiers-{n}-audience": tier.audience,
                f"fee_tiers-{n}-amount": str(tier.amount),
                f"fee_tiers-{n}-available_until": "",
                f"fee_tiers-{n}-position": str(tier.position),
            }
        )
    data.update(changes)
    return data


def test_raising_the_capacity_gives_the_new_seats_to_the_waitlist(staff_client, event, mailoutbox):
    full(event, 1)
    sign_up(event, first="Seated")
    waiting = sign_up(event, first="Waiting")
    assert waiting.is_waitlisted
    mailoutbox.clear()

    response = staff_client.post(
        reverse("admin:events_event_change", args=[event.pk]), change_form_of(event, capacity="2")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    waiting.refresh_from_db()
    event.refresh_from_db()
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert (event.capacity, event.seats_taken) == (2, 2)
    assert [m.to for m in mailoutbox] == [[waiting.email]]


def test_the_capacity_cannot_fall_below_the_seats_taken(staff_client, event):
    sign_up(event, first="One")
    sign_up(event, first="Two")

    response = staff_client.post(
        reverse("admin:events_event_change", args=[event.pk]), change_form_of(event, capacity="1")
    )

    assert response.status_code == 200
    assert "capacity" in response.context["adminform"].form.errors


def test_saving_the_form_leaves_the_status_and_the_seats_to_the_services(staff_client, event):
    sign_up(event)
    form = change_form_of(event, title="Renamed", status=EventStatus.CANCELLED)
    # A seat taken while the form was open is not overwritten by the save.
    Event.objects.filter(pk=event.pk).update(seats_taken=3)

    staff_client.post(reverse("admin:events_event_change", args=[event.pk]), form)

    event.refresh_from_db()
    assert (event.title, event.status, event.seats_taken) == ("Renamed", EventStatus.PUBLISHED, 3)


# --- the status buttons --------------------------------------------------------------------------


def test_publish_and_withdraw_go_through_the_services(staff_client, centre_staff):
    event = EventFactory(status=EventStatus.DRAFT)

    staff_client.post(url("publish", event))
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED
    assert event.status_changes.get().actor == centre_staff

    staff_client.post(url("withdraw", event))
    event.refresh_from_db()
    assert event.status == EventStatus.DRAFT


def test_an_event_with_registrations_cannot_be_withdrawn(staff_client, event):
    sign_up(event)

    response = staff_client.post(url("withdraw", event), follow=True)

    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED
    assert "cancel it instead" in response.text


def test_publishing_needs_a_post(staff_client):
    event = EventFactory(status=EventStatus.DRAFT)

    staff_client.get(url("publish", event))

    event.refresh_from_db()
    assert event.status == EventStatus.DRAFT


def test_cancelling_an_event_emails_everyone_registered_with_the_reason(
    staff_client, event, mailoutbox
):
    full(event, 2)
    people = [sign_up(event, first=name) for name in ("Ana", "Bea", "Cy")]
    assert people[2].is_waitlisted
    mailoutbox.clear()

    empty = staff_client.post(url("cancel", event), {"reason": ""})
    assert empty.status_code == 200 and Event.objects.get(pk=event.pk).status != "cancelled"

    response = staff_client.post(url("cancel", event), {"reason": "The venue flooded."})

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert {m.to[0] for m in mailoutbox} == {p.email for p in people}
    assert all(m.subject.endswith(f"Cancelled: {event.title}") for m in mailoutbox)
    assert all("The venue flooded." in m.body for m in mailoutbox)
    assert set(Registration.objects.values_list("status", flat=True)) == {"cancelled"}


def test_the_free_seats_button_fills_them_from_the_waitlist(staff_client, event):
    full(event, 1)
    sign_up(event, first="Seated")
    waiting = sign_up(event, first="Waiting")
    Event.objects.filter(pk=event.pk).update(capacity=2)  # raised outside the form

    staff_client.post(url("fill", event))

    waiting.refresh_from_db()
    assert waiting.is_confirmed


# --- registrations -------------------------------------------------------------------------------


def act(client, action: str, registrations, **extra):
    return client.post(
        reverse("admin:events_registration_changelist"),
        {"action": action, "_selected_action": [r.pk for r in registrations], **extra},
        follow=True,
    )


def test_mark_paid_records_who_and_when(staff_client, centre_staff, event):
    registration = sign_up(event)

    act(staff_client, "mark_paid", [registration])

    registration.refresh_from_db()
    assert registration.paid_at is not None
    assert registration.paid_by == centre_staff

    act(staff_client, "mark_unpaid", [registration])
    registration.refresh_from_db()
    assert registration.paid_at is None


def test_promote_gives_a_free_seat_and_refuses_when_there_is_none(staff_client, event, mailoutbox):
    full(event, 1)
    sign_up(event, first="Seated")
    first = sign_up(event, first="First")
    chosen = sign_up(event, first="Chosen")

    refused = act(staff_client, "promote", [chosen])
    chosen.refresh_from_db()
    assert chosen.is_waitlisted
    assert "No seat is free" in refused.text

    # A seat free (the capacity raised outside the form): the staff give it, whatever the order.
    Event.objects.filter(pk=event.pk).update(capacity=2)
    mailoutbox.clear()
    act(staff_client, "promote", [chosen])

    chosen.refresh_from_db()
    first.refresh_from_db()
    assert chosen.is_confirmed and first.is_waitlisted
    assert chosen.status_changes.last().actor is not None
    assert [m.to for m in mailoutbox] == [[chosen.email]]


def test_promote_adding_a_seat_raises_the_capacity(staff_client, event, mailoutbox):
    full(event, 1)
    sign_up(event, first="Seated")
    waiting = sign_up(event, first="Waiting")
    mailoutbox.clear()

    act(staff_client, "promote_adding_seat", [waiting])

    waiting.refresh_from_db()
    event.refresh_from_db()
    assert waiting.is_confirmed
    assert (event.capacity, event.seats_taken) == (2, 2)
    assert [m.to for m in mailoutbox] == [[waiting.email]]


def test_the_staff_cancel_a_registration_and_the_seat_goes_to_the_next(staff_client, event):
    full(event, 1)
    seated = sign_up(event, first="Seated")
    waiting = sign_up(event, first="Waiting")

    act(staff_client, "cancel", [seated])

    seated.refresh_from_db()
    waiting.refresh_from_db()
    assert seated.status == RegistrationStatus.CANCELLED
    assert waiting.is_confirmed
    assert seated.status_changes.last().note == "Cancelled by the staff."


def test_a_staff_fee_is_chosen_on_an_intermediate_page(staff_client, event):
    speaker = FeeTierFactory(event=event, name="Speaker", audience=FeeAudience.ASSIGNED, amount=0)
    other_event_tier = FeeTierFactory(name="Elsewhere", audience=FeeAudience.ASSIGNED, amount=1)
    registration = sign_up(event)

    page = act(staff_client, "give_staff_fee", [registration])
    assert page.status_code == 200
    assert "Speaker" in page.text and "Elsewhere" not in page.text

    wrong = act(
        staff_client, "give_staff_fee", [registration], apply="1", tier=str(other_event_tier.pk)
    )
    assert wrong.context["form"].errors
    act(staff_client, "give_staff_fee", [registration], apply="1", tier=str(speaker.pk))

    registration.refresh_from_db()
    assert (registration.fee_name, registration.amount, registration.fee_basis) == (
        "Speaker",
        0,
        FeeBasis.ASSIGNED,
    )


def test_a_staff_fee_is_given_to_one_event_at_a_time(staff_client, event):
    one = sign_up(event)
    two = sign_up(with_member_and_public_fees(EventFactory()), first="Bea")

    response = act(staff_client, "give_staff_fee", [one, two])

    assert "one event at a time" in response.text


def test_registrations_cannot_be_added_or_deleted_and_their_fee_is_read_only(staff_client, event):
    registration = sign_up(event)
    page = reverse("admin:events_registration_change", args=[registration.pk])

    assert staff_client.get(reverse("admin:events_registration_add")).status_code == 403
    form = staff_client.get(page).context["adminform"].form
    assert "first_name" in form.fields
    assert not {"status", "amount", "paid_at", "attended_at", "fee_name"} & set(form.fields)


def test_the_staff_correct_a_name_without_touching_the_rest(staff_client, event):
    registration = sign_up(event, first="Anna")
    fields = ["first_name", "last_name", "job_title", "organisation_name"]
    data = {name: getattr(registration, name) for name in fields}
    data.update(
        {
            "first_name": "Ana",
            "dietary_needs": "",
            "accessibility_needs": "",
            "listed": "on",
            "status_changes-TOTAL_FORMS": "1",
            "status_changes-INITIAL_FORMS": "1",
            "status_changes-MIN_NUM_FORMS": "0",
            "status_changes-MAX_NUM_FORMS": "1000",
            "status_changes-0-id": str(registration.status_changes.get().pk),
            "status_changes-0-registration": str(registration.pk),
        }
    )
    # Paid while the form was open: the save keeps it.
    services.mark_paid(registrations=[registration], by=UserFactory(is_superuser=True))

    response = staff_client.post(
        reverse("admin:events_registration_change", args=[registration.pk]), data
    )

    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.first_name == "Ana"
    assert registration.paid_at is not None


def test_the_registration_list_filters_by_event_payment_and_member_fee(
    staff_client, event, representative
):
    member = sign_up(event, first="Member", user=representative)
    other = sign_up(event, first="Other")
    elsewhere = sign_up(with_member_and_public_fees(EventFactory()), first="Elsewhere")
    services.mark_paid(registrations=[other], by=UserFactory(is_superuser=True))

    def listed(query: str) -> set[int]:
        response = staff_client.get(reverse("admin:events_registration_changelist") + query)
        return {r.pk for r in response.context["cl"].result_list}

    assert listed(f"?event={event.pk}") == {member.pk, other.pk}
    assert listed(f"?event={event.pk}&member_fee=yes") == {member.pk}
    assert listed(f"?event={event.pk}&paid=owes") == {member.pk}
    assert listed("?paid=yes") == {other.pk}
    assert listed(f"?q={other.payment_reference}") == {other.pk}
    assert elsewhere.pk in listed("")


# The session, the user, the two-factor check (twice), the permissions (user and group), the
# event filter's events, the count, the voting rule check of the admin's menu, and the page of
# rows (with their event and member organisation): none per row.
REGISTRATION_LIST_QUERIES = 10


def test_the_registration_list_has_a_fixed_number_of_queries(staff_client, event):
    event = full(event, 100)

    def queries(count: int) -> int:
        for n in range(count):
            membership = MembershipFactory()
            user = RepresentativeFactory(organisation=membership.organisation).user
            sign_up(event, first=f"P{count}-{n}", user=user)
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(
                reverse("admin:events_registration_changelist") + f"?event={event.pk}"
            )
        assert len(response.context["cl"].result_list) >= count
        return len(captured)

    assert queries(3) == queries(12) == REGISTRATION_LIST_QUERIES


# --- exports and lists ---------------------------------------------------------------------------


def test_the_attendee_export_has_every_column(staff_client, event, representative, member_org):
    registration = sign_up(
        event,
        user=representative,
        first="Ana",
        last="Lopez",
        job_title="Prevention officer",
        organisation_name="Lyon",
        dietary_needs="Vegetarian",
        accessibility_needs="Step-free access",
        listed=True,
    )

    response = staff_client.get(url("attendees_csv", event))

    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    [row] = csv_rows(response)
    assert row == {
        "name": "Ana Lopez",
        "email": representative.email,
        "position": "Prevention officer",
        "organisation": "Lyon",
        "member fee through": member_org.name,
        "status": "Registered",
        "fee": "Member fee",
        "amount": "150.00",
        "currency": "CAD",
        "payment reference": registration.payment_reference,
        "paid": "",
        "arrived": "",
        "dietary needs": "Vegetarian",
        "accessibility needs": "Step-free access",
        "may appear on the attendee list": "yes",
    }


def test_the_attendee_export_defuses_formulas(staff_client, event):
    sign_up(
        event, first='=HYPERLINK("http://evil.example")', last="-2+3", organisation_name="@SUM(A1)"
    )

    [row] = csv_rows(staff_client.get(url("attendees_csv", event)))

    assert row["name"] == '\'=HYPERLINK("http://evil.example") -2+3'
    assert row["organisation"] == "'@SUM(A1)"


def test_the_badges_show_the_confirmed_attendees_by_last_name(staff_client, event):
    full(event, 3)
    sign_up(event, first="Zoe", last="Adams", organisation_name="Lyon", job_title="Mayor")
    sign_up(event, first="Bob", last="zimmer", organisation_name="Dakar")
    sign_up(event, first="Amy", last="Moreau")
    sign_up(event, first="Wait", last="Listed")  # on the waitlist: no badge
    cancelled = sign_up(EventFactory(), first="Other", last="Event")
    assert cancelled.event != event

    page = staff_client.get(url("badges", event))

    names = [r.last_name for r in page.context["attendees"]]
    assert names == ["Adams", "Moreau", "zimmer"]
    assert "Mayor" in page.text and "Lyon" in page.text
    assert "Listed" not in page.text
    assert "print-page.js" in page.text and "<script>" not in page.text


def test_the_waitlist_puts_members_first_and_promotes_from_its_page(
    staff_client, event, representative
):
    full(event, 1)
    sign_up(event, first="Seated")
    first = sign_up(event, first="Early")
    member = sign_up(event, first="Member", user=representative)

    page = staff_client.get(url("waitlist", event))
    assert [r.pk for r in page.context["waiting"]] == [member.pk, first.pk]

    staff_client.post(url("waitlist", event), {"registration": first.pk, "add_seat": "1"})

    first.refresh_from_db()
    assert first.is_confirmed


# --- the door ------------------------------------------------------------------------------------


def test_the_door_page_searches_by_name_or_organisation(staff_client, event):
    sign_up(event, first="Ana", last="Lopez", organisation_name="Lyon Safer City")
    sign_up(event, first="Bea", last="Martin", organisation_name="Dakar NGO")

    def found(q: str) -> list[str]:
        page = staff_client.get(url("door", event), {"q": q})
        return [r.last_name for r in page.context["attendees"]]

    assert found("") == ["Lopez", "Martin"]
    assert found("lyon") == ["Lopez"]
    assert found("bea mart") == ["Martin"]
    assert found("nobody") == []


def test_the_door_marks_arrival_and_undoes_it_returning_to_the_person(staff_client, event):
    registration = sign_up(event, first="Ana", last="Lopez")
    page = staff_client.get(url("door", event))
    assert 'name="viewport"' in page.text
    assert f'id="r{registration.pk}"' in page.text

    response = staff_client.post(
        url("door", event), {"registration": registration.pk, "arrived": "1", "q": "lopez"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{url('door', event)}?q=lopez#r{registration.pk}"
    registration.refresh_from_db()
    assert registration.attended_at is not None
    assert "Undo" in staff_client.get(url("door", event)).text

    staff_client.post(url("door", event), {"registration": registration.pk, "arrived": "0"})
    registration.refresh_from_db()
    assert registration.attended_at is None


def test_the_door_refuses_someone_without_a_seat_and_other_events_registrations(
    staff_client, event
):
    full(event, 1)
    sign_up(event, first="Seated")
    waiting = sign_up(event, first="Waiting")
    elsewhere = sign_up(with_member_and_public_fees(EventFactory()), first="Elsewhere")

    refused = staff_client.post(
        url("door", event), {"registration": waiting.pk, "arrived": "1"}, follow=True
    )
    other = staff_client.post(url("door", event), {"registration": elsewhere.pk, "arrived": "1"})

    assert "has no seat" in refused.text
    assert other.status_code == 404
    assert not Registration.objects.filter(attended_at__isnull=False).exists()


def test_the_door_page_reads_a_fixed_number_of_queries(staff_client, event):
    event = full(event, 100)

    def queries(count: int) -> int:
        for n in range(count):
            sign_up(event, first=f"P{count}-{n}")
        with CaptureQueriesContext(connection) as captured:
            staff_client.get(url("door", event))
        return len(captured)

    queries(0)  # the first request reads the person's account, later ones keep it
    assert queries(3) == queries(12)


def test_the_event_list_reads_a_fixed_number_of_queries(staff_client):
    def queries(count: int) -> int:
        for _ in range(count):
            EventFactory(starts_at=timezone.now() + datetime.timedelta(days=5))
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(reverse("admin:events_event_changelist"))
        assert len(response.context["cl"].result_list) >= count
        return len(captured)

    assert queries(3) == queries(12)
