"""The events' pages: what they cost, that what they show is never stale, the list's filters and
archive, the calendar feed and attachments, and who may see and change what."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from events import services
from events.models import Event, EventKind, EventLanguage, EventStatus, Registration
from tests.budgets import SESSION_QUERIES
from tests.events.conftest import DETAILS
from tests.factories import EventFactory, FeeTierFactory, UserFactory, with_member_and_public_fees

pytestmark = pytest.mark.django_db

LIST = reverse("events:list")
ARCHIVE = reverse("events:archive")
FEED = reverse("events:feed")
MINE = reverse("events:my_registrations")


def detail_url(event: Event) -> str:
    return reverse("events:detail", args=[event.slug])


def register_url(event: Event) -> str:
    return reverse("events:register", args=[event.slug])


def cancel_url(registration: Registration) -> str:
    return reverse("events:cancel", args=[registration.pk])


def form_data() -> dict:
    return {**{name: value for name, value in DETAILS.items() if name != "listed"}, "listed": "on"}


def titles_in(response) -> set[str]:
    """The titles of the events among ``Event``'s rows that the page shows."""
    page = response.content.decode()
    return {title for title in Event.objects.values_list("title", flat=True) if title in page}


def meeting_with_visits(visits: int) -> Event:
    meeting = with_member_and_public_fees(EventFactory(kind=EventKind.ANNUAL_MEETING))
    for _ in range(visits):
        visit = EventFactory(kind=EventKind.VISIT, parent=meeting, capacity=20)
        FeeTierFactory(event=visit, name="Visit fee", amount=40)
    return meeting


# --- What the pages cost ----------------------------------------------------------------------

LIST_QUERIES = 3  # the countries of the filter, the count for the pager, the page of events


@pytest.mark.parametrize("events", [3, 25])
def test_the_event_list_costs_the_same_queries_for_3_or_25_events(
    client, django_assert_num_queries, events
):
    for _ in range(events):
        with_member_and_public_fees(EventFactory())

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(LIST)

    assert response.status_code == 200
    assert len(titles_in(response)) == min(events, 20)


# The session, its user, the event, its fees, its visits and their fees (a published event: no
# need to ask whether they are staff), the person's registrations to the event and its visits (one
# query), their organisations and membership for the fee, and the menu's membership check.
DETAIL_QUERIES = SESSION_QUERIES + 9


@pytest.mark.parametrize("visits", [1, 3])
def test_the_event_page_signed_in_costs_the_same_queries_whatever_its_visits(
    client, django_assert_num_queries, representative, visits
):
    meeting = meeting_with_visits(visits)
    client.force_login(representative)

    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(detail_url(meeting))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Visit fee") == visits
    assert "as a member of the Centre in good standing" in page


# The session, the user, their email's verification, the rows, the menu's membership check.
MY_REGISTRATIONS_QUERIES = SESSION_QUERIES + 4


@pytest.mark.parametrize("registrations", [2, 6])
def test_my_registrations_costs_the_same_queries_for_2_or_6_registrations(
    client, django_assert_num_queries, outsider, registrations
):
    for number in range(registrations):
        event = with_member_and_public_fees(
            EventFactory(starts_at=timezone.now() + datetime.timedelta(days=10 + number))
        )
        services.register(event=event, user=outsider, details=DETAILS)
    past = EventFactory(starts_at=timezone.now() + datetime.timedelta(days=1))
    services.register(event=past, user=outsider, details=DETAILS)
    Event.objects.filter(pk=past.pk).update(
        starts_at=timezone.now() - datetime.timedelta(days=3),
        ends_at=timezone.now() - datetime.timedelta(days=3) + datetime.timedelta(hours=2),
    )
    client.force_login(outsider)

    with django_assert_num_queries(MY_REGISTRATIONS_QUERIES):
        response = client.get(MINE)

    assert response.status_code == 200
    assert len(titles_in(response)) == registrations + 1


# --- Seats left are never stale ---------------------------------------------------------------


def test_a_visitor_sees_one_seat_fewer_right_after_someone_registers(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    event = with_member_and_public_fees(EventFactory(capacity=10))
    assert "10 seats left" in client.get(detail_url(event)).content.decode()
    assert "10 seats left" in client.get(LIST).content.decode()
    with django_assert_num_queries(0):  # both pages now come from the cache
        assert "10 seats left" in client.get(detail_url(event)).content.decode()
        assert "10 seats left" in client.get(LIST).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, user=UserFactory(), details=DETAILS)

    assert "9 seats left" in client.get(detail_url(event)).content.decode()
    assert "9 seats left" in client.get(LIST).content.decode()


def test_a_visitor_sees_the_seat_freed_by_a_cancellation(
    client, django_capture_on_commit_callbacks
):
    event = with_member_and_public_fees(EventFactory(capacity=1))
    registration = services.register(event=event, user=UserFactory(), details=DETAILS)
    assert "Full: waitlist open" in client.get(detail_url(event)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(registration=registration, by=registration.user)

    assert "1 seat left" in client.get(detail_url(event)).content.decode()


# --- The list's filters and the archive -------------------------------------------------------


@pytest.fixture
def three_events():
    zone = timezone.get_current_timezone()
    year = timezone.localdate().year + 1

    def on(month: int, day: int) -> datetime.datetime:
        return datetime.datetime(year, month, day, 9, tzinfo=zone)

    montreal = EventFactory(
        title="Montréal seminar", starts_at=on(3, 15), country="CA", city="Montréal"
    )
    webinar = EventFactory(
        title="French webinar",
        kind=EventKind.WEBINAR,
        online=True,
        country="",
        city="",
        venue="",
        language=EventLanguage.FRENCH,
        starts_at=on(4, 10),
    )
    paris = EventFactory(
        title="Paris colloquium",
        kind=EventKind.COLLOQUIUM,
        country="FR",
        city="Paris",
        language=EventLanguage.SPANISH,
        starts_at=on(3, 20),
    )
    return montreal, webinar, paris, year


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({}, {"Montréal seminar", "French webinar", "Paris colloquium"}),
        ({"kind": "webinar"}, {"French webinar"}),
        ({"kind": "colloquium"}, {"Paris colloquium"}),
        ({"where": "online"}, {"French webinar"}),
        ({"where": "FR"}, {"Paris colloquium"}),
        ({"where": "CA"}, {"Montréal seminar"}),
        ({"language": "fr"}, {"French webinar"}),
        ({"language": "es"}, {"Paris colloquium"}),
        ({"month": "{year}-03"}, {"Montréal seminar", "Paris colloquium"}),
        ({"month": "{year}-04", "where": "online"}, {"French webinar"}),
        ({"month": "{year}-05"}, set()),
        ({"kind": "seminar", "language": "fr"}, set()),
        # A wrong value in one filter is ignored, the others still apply.
        ({"kind": "nonsense", "where": "FR"}, {"Paris colloquium"}),
    ],
)
def test_the_list_filters(client, three_events, query, shown):
    year = three_events[-1]
    query = {name: value.format(year=year) for name, value in query.items()}

    response = client.get(LIST, query)

    assert response.status_code == 200
    assert titles_in(response) == shown
    if not shown:
        assert "No event matches these filters." in response.content.decode()


def test_the_archive_shows_past_events_and_the_list_upcoming_ones(client):
    now = timezone.now()
    EventFactory(title="Next month seminar")
    EventFactory(
        title="Last year seminar",
        starts_at=now - datetime.timedelta(days=300),
        ends_at=now - datetime.timedelta(days=300, hours=-8),
    )
    EventFactory(
        title="Last year draft",
        status=EventStatus.DRAFT,
        starts_at=now - datetime.timedelta(days=200),
        ends_at=now - datetime.timedelta(days=200, hours=-8),
    )

    assert titles_in(client.get(LIST)) == {"Next month seminar"}
    assert titles_in(client.get(ARCHIVE)) == {"Last year seminar"}


def test_visits_and_drafts_are_not_in_the_list(client):
    meeting = EventFactory(kind=EventKind.ANNUAL_MEETING, title="Annual meeting 2027")
    EventFactory(kind=EventKind.VISIT, parent=meeting, title="Visit of the police station")
    EventFactory(status=EventStatus.DRAFT, title="Draft seminar")

    assert titles_in(client.get(LIST)) == {"Annual meeting 2027"}


# --- The calendar feed and the confirmation's attachment --------------------------------------


def vevents(ics: bytes) -> list:
    return Calendar.from_ical(ics).walk("VEVENT")


def test_the_feed_has_one_entry_per_published_event_drafts_absent_cancelled_ones_said(
    client, centre_staff
):
    meeting = EventFactory(kind=EventKind.ANNUAL_MEETING, title="Annual meeting 2027")
    visit = EventFactory(kind=EventKind.VISIT, parent=meeting, title="Visit of the city hall")
    seminar = EventFactory(title="Safer schools seminar")
    EventFactory(status=EventStatus.DRAFT, title="Draft seminar")
    called_off = EventFactory(title="Called-off colloquium")
    services.cancel_event(event=called_off, by=centre_staff, reason="The venue closed.")

    response = client.get(FEED)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    entries = {str(entry["SUMMARY"]): entry for entry in vevents(response.content)}
    assert set(entries) == {meeting.title, visit.title, seminar.title, called_off.title}
    assert len(vevents(response.content)) == 4
    assert str(entries[called_off.title]["STATUS"]) == "CANCELLED"
    assert str(entries[seminar.title]["STATUS"]) == "CONFIRMED"
    assert len({str(entry["UID"]) for entry in entries.values()}) == 4


def test_the_feed_served_from_the_cache_is_still_a_calendar(client):
    EventFactory(title="Safer schools seminar")
    first = client.get(FEED)

    again = client.get(FEED)

    assert again.content == first.content
    assert again["Content-Type"].startswith("text/calendar")
    assert len(vevents(again.content)) == 1


def test_the_confirmation_email_carries_the_event_in_its_own_time_zone(outsider, mailoutbox):
    paris = datetime.datetime(timezone.localdate().year + 1, 6, 12, 9, 30, tzinfo=datetime.UTC)
    event = with_member_and_public_fees(
        EventFactory(
            title="Paris colloquium",
            time_zone="Europe/Paris",
            starts_at=paris,
            ends_at=paris + datetime.timedelta(hours=7),
        )
    )

    services.register(event=event, user=outsider, details=DETAILS)

    (confirmation,) = [m for m in mailoutbox if m.to == [outsider.email]]
    ((name, content, mimetype),) = confirmation.attachments
    assert (name, mimetype) == ("event.ics", "text/calendar")
    calendar = Calendar.from_ical(content)
    (entry,) = calendar.walk("VEVENT")
    start = entry["DTSTART"]
    assert start.params["TZID"] == "Europe/Paris"
    assert start.dt == paris
    assert start.dt.replace(tzinfo=None) == datetime.datetime(paris.year, 6, 12, 11, 30)
    assert entry["DTEND"].params["TZID"] == "Europe/Paris"
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert str(entry["SUMMARY"]) == "Paris colloquium"
    assert "(Europe/Paris, UTC+2)" in confirmation.body


# --- Who may see and change what --------------------------------------------------------------


def test_cancelling_someone_elses_registration_answers_404_and_changes_nothing(client, event):
    theirs = services.register(event=event, user=UserFactory(), details=DETAILS)
    client.force_login(UserFactory())

    response = client.post(cancel_url(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_confirmed
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_cancelling_after_the_cut_off_is_refused_with_a_message_and_changes_nothing(
    client, event, outsider, mailoutbox
):
    registration = services.register(event=event, user=outsider, details=DETAILS)
    Event.objects.filter(pk=event.pk).update(
        cancellation_cutoff=timezone.now() - datetime.timedelta(hours=1)
    )
    mailoutbox.clear()
    client.force_login(outsider)

    response = client.post(cancel_url(registration), follow=True)

    assert response.redirect_chain == [(MINE, 302)]
    page = response.content.decode()
    assert "can no longer be cancelled online" in page
    assert "Your registration" not in page
    registration.refresh_from_db()
    assert registration.is_confirmed
    assert registration.cancelled_at is None
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert mailoutbox == []


def test_my_registrations_says_the_cancellation_cut_off_in_the_events_time_zone(client, outsider):
    cutoff = datetime.datetime(timezone.localdate().year + 1, 6, 1, 16, tzinfo=datetime.UTC)
    event = EventFactory(
        time_zone="Europe/Paris",
        starts_at=cutoff + datetime.timedelta(days=10),
        ends_at=cutoff + datetime.timedelta(days=10, hours=8),
        cancellation_cutoff=cutoff,
    )
    services.register(event=event, user=outsider, details=DETAILS)
    client.force_login(outsider)

    page = client.get(MINE).content.decode()

    # 16:00 UTC is 18:00 in Paris (summer time), and the page says which zone it means.
    (sentence,) = [line for line in page.splitlines() if "You can cancel until" in line]
    assert "18:00" in sentence or "6 p.m." in sentence, sentence
    assert "Europe/Paris" in sentence, sentence


def test_the_attendee_cancels_before_the_cut_off(client, event, outsider):
    registration = services.register(event=event, user=outsider, details=DETAILS)
    client.force_login(outsider)

    response = client.post(cancel_url(registration), follow=True)

    assert "is cancelled" in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == "cancelled"
    event.refresh_from_db()
    assert event.seats_taken == 0


def test_a_draft_event_answers_404_to_visitors_and_members(client, outsider, centre_staff):
    draft = with_member_and_public_fees(EventFactory(status=EventStatus.DRAFT))
    pages = [
        detail_url(draft),
        register_url(draft),
        reverse("events:calendar", args=[draft.slug]),
    ]

    assert client.get(detail_url(draft)).status_code == 404
    client.force_login(outsider)
    for url in pages:
        assert client.get(url).status_code == 404, url
    assert client.post(register_url(draft), form_data()).status_code == 404
    assert not Registration.objects.filter(event=draft).exists()
    client.force_login(centre_staff)
    assert client.get(detail_url(draft)).status_code == 200


def test_a_visit_for_those_at_the_meeting_is_refused_until_the_person_registers_to_it(
    client, outsider
):
    meeting = with_member_and_public_fees(EventFactory(kind=EventKind.ANNUAL_MEETING))
    visit = EventFactory(
        kind=EventKind.VISIT, parent=meeting, requires_parent_registration=True, capacity=15
    )
    client.force_login(outsider)

    refused = client.post(register_url(visit), form_data())

    assert refused.status_code == 200
    assert "register to the meeting first" in refused.content.decode()
    assert 'value="Prevention officer"' in refused.content.decode()
    assert not Registration.objects.filter(event=visit).exists()

    services.register(event=meeting, user=outsider, details=DETAILS)
    accepted = client.post(register_url(visit), form_data())

    assert accepted.status_code == 302
    assert Registration.objects.get(event=visit, user=outsider).is_confirmed
