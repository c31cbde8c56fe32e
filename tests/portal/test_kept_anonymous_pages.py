"""A visitor's page kept by core.pagecache is served again whole before the session, the
language, the URL resolver and the rest of the middleware run
(icpc_portal.middleware.KeptAnonymousPagesMiddleware): byte for byte and header for header what
the first visitor got, never after a change, never to someone with a session, and never in place
of the first-visit redirect to French or of the refusal of a host that is not allowed."""

import pytest
from django.test import Client
from django.utils import translation

from events import services
from tests.events.conftest import DETAILS
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def _seats(html: str) -> str:
    return html.split('class="seats">', 1)[1].split("<", 1)[0]


@pytest.fixture
def event(db):
    return EventFactory()


@pytest.fixture(autouse=True)
def _english():
    """Whatever language an earlier test left this thread in (the addresses are written out)."""
    translation.activate("en")
    yield
    translation.activate("en")


def _address(event) -> str:
    return f"/events/{event.slug}/"


def test_the_second_visitor_gets_the_first_ones_page_before_any_middleware_below(
    client, event, django_assert_num_queries
):
    address = _address(event)
    first = client.get(address, HTTP_ACCEPT_LANGUAGE="en")
    assert hasattr(first.wsgi_request, "session")  # made below the session's middleware
    with django_assert_num_queries(0):
        again = Client().get(address, HTTP_ACCEPT_LANGUAGE="en")
    assert not hasattr(again.wsgi_request, "session")  # served above the session's middleware
    assert again.content == first.content
    assert sorted(again.items()) == sorted(first.items())


def test_a_registration_retires_the_kept_page_at_once(
    client, event, django_capture_on_commit_callbacks
):
    address = _address(event)
    for _ in range(2):
        assert _seats(Client().get(address).content.decode()) == "10 seats left"
    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, user=UserFactory(), details=DETAILS)
    assert _seats(Client().get(address).content.decode()) == "9 seats left"


def test_a_first_visit_from_a_french_browser_is_still_sent_to_the_french_page(event):
    address = _address(event)
    Client().get(address, HTTP_ACCEPT_LANGUAGE="en")
    Client().get(address, HTTP_ACCEPT_LANGUAGE="en")
    # A French page just before, on the same thread: its language must not be the one the
    # English address is read in.
    assert Client().get("/fr/contact/").status_code == 200
    response = Client().get(address, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302
    assert response["Location"] == f"/fr{address}"


def test_a_host_that_is_not_allowed_is_still_refused(event):
    address = _address(event)
    Client().get(address)
    Client().get(address)
    assert Client().get(address, HTTP_HOST="evil.example").status_code == 400


def test_someone_with_a_session_is_never_served_a_visitors_page(event):
    address = _address(event)
    Client().get(address)
    Client().get(address)
    member = Client()
    member.force_login(UserFactory())
    page = member.get(address).content.decode()
    assert "Sign out" in page
    assert "Sign in to register." not in page


def test_a_visitor_with_a_message_waiting_gets_the_page_made_for_them(event):
    """The message is shown once, on the page made for this request."""
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest, HttpResponse

    address = _address(event)
    Client().get(address)
    Client().get(address)
    request = HttpRequest()
    storage = CookieStorage(request)
    storage.add(20, "Your subscription is confirmed.")
    carrier = HttpResponse()
    storage.update(carrier)
    visitor = Client()
    visitor.cookies["messages"] = carrier.cookies["messages"].value
    page = visitor.get(address).content.decode()
    assert "Your subscription is confirmed." in page


def test_a_malformed_csrf_cookie_is_replaced_as_before(event):
    address = _address(event)
    Client().get(address)
    Client().get(address)
    visitor = Client()
    visitor.cookies["csrftoken"] = "bad"
    response = visitor.get(address)
    assert response.status_code == 200
    assert len(response.cookies["csrftoken"].value) == 32


def test_the_calendar_feed_keeps_its_file_name_however_it_is_served(event):
    """Made, kept whole, and from the view's own copy (a visitor the middleware lets through:
    here one whose CSRF cookie is replaced)."""
    made, whole = Client().get("/events/feed.ics"), Client().get("/events/feed.ics")
    through = Client()
    through.cookies["csrftoken"] = "bad"
    for answer in (made, whole, through.get("/events/feed.ics")):
        assert answer["Content-Disposition"] == 'inline; filename="icpc-events.ics"'
