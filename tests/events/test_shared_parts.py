"""Signed-in pages share what is the same for everyone (the list, the event page and its fees)
for as long as no event changes; their seats left are never stale either, and each person's own
parts (their registration, their fee, their visits) are never anyone else's."""

import pytest

from events import services
from events.models import EventKind
from tests.events.conftest import DETAILS
from tests.factories import EventFactory, FeeTierFactory, UserFactory, with_member_and_public_fees

pytestmark = pytest.mark.django_db


def _seats(html: str) -> str:
    return html.split('class="seats">', 1)[1].split("<", 1)[0]


def test_a_signed_in_visitor_sees_a_seat_fewer_right_after_someone_registers(
    client, event, outsider, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    assert _seats(client.get(event.get_absolute_url()).content.decode()) == "10 seats left"
    assert "10 seats left" in client.get("/events/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, user=UserFactory(), details=DETAILS)

    assert _seats(client.get(event.get_absolute_url()).content.decode()) == "9 seats left"
    assert "9 seats left" in client.get("/events/").content.decode()


def test_the_shared_parts_are_read_once_and_a_change_reads_them_again(
    client, event, outsider, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    client.get("/events/")
    client.get(event.get_absolute_url())

    # The list: the session and the person, the menu's membership check; nothing of the events.
    with django_assert_max_num_queries(3) as listed:
        client.get("/events/")
    assert not any("events_event" in query["sql"] for query in listed.captured_queries)
    with django_assert_max_num_queries(8) as detailed:
        client.get(event.get_absolute_url())
    assert not any('FROM "events_event"' in query["sql"] for query in detailed.captured_queries)

    with django_capture_on_commit_callbacks(execute=True):
        event.title = "Renamed seminar"
        event.save()

    assert "Renamed seminar" in client.get("/events/").content.decode()
    assert "Renamed seminar" in client.get(event.get_absolute_url()).content.decode()


def test_the_staff_see_a_draft_that_visitors_and_members_do_not(client, event, outsider):
    from events.models import EventStatus
    from tests.factories import StaffFactory

    event.status = EventStatus.DRAFT
    event.save()
    client.force_login(outsider)
    assert client.get(event.get_absolute_url()).status_code == 404
    client.force_login(StaffFactory())
    response = client.get(event.get_absolute_url())
    assert response.status_code == 200
    assert "A draft: only the Centre's staff see this page" in response.content.decode()


def _meeting_with_two_visits():
    meeting = with_member_and_public_fees(EventFactory(kind=EventKind.ANNUAL_MEETING))
    visits = [
        EventFactory(kind=EventKind.VISIT, parent=meeting, capacity=1, title=f"Visit {number}")
        for number in (1, 2)
    ]
    for visit in visits:
        FeeTierFactory(event=visit, name="Visit fee", amount=40)
    return meeting, visits


def _register_links(html: str, *events) -> list[bool]:
    return [f'href="/events/{event.slug}/register/"' in html for event in events]


def test_each_person_sees_their_own_registration_on_the_shared_event_page(
    client, outsider, representative
):
    meeting, (first, second) = _meeting_with_two_visits()
    services.register(event=meeting, user=outsider, details=DETAILS)
    services.register(event=first, user=outsider, details=DETAILS)

    client.force_login(outsider)
    theirs = client.get(meeting.get_absolute_url()).content.decode()
    client.force_login(representative)  # the shared parts are now cached: only theirs differ
    mine = client.get(meeting.get_absolute_url()).content.decode()

    assert "You are registered." in theirs
    assert theirs.count("You are registered") == 2  # the meeting's box and the first visit
    assert _register_links(theirs, meeting, first, second) == [False, False, True]
    assert "You are registered" not in mine
    assert "as a member of the Centre in good standing" in mine
    assert _register_links(mine, meeting, first, second) == [True, True, True]


def test_a_visit_that_fills_up_offers_its_waitlist_at_once(
    client, outsider, django_capture_on_commit_callbacks
):
    meeting, (first, _second) = _meeting_with_two_visits()
    client.force_login(outsider)
    assert "Join the waitlist" not in client.get(meeting.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=first, user=UserFactory(), details=DETAILS)

    page = client.get(meeting.get_absolute_url()).content.decode()
    assert page.count("Join the waitlist") == 1
    assert page.count("Full: waitlist open") == 1
