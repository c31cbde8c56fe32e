"""Signed-in pages share what is the same for everyone (the list, the event and its fees) for
as long as no event changes; their seats left are never stale either."""

import pytest

from events import services
from tests.events.conftest import DETAILS
from tests.factories import UserFactory

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
    assert client.get(event.get_absolute_url()).status_code == 200
