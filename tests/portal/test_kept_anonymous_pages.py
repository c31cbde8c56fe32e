"""A visitor's page kept by core.pagecache is served again whole before the session, the
language, the URL resolver and the rest of the middleware run
(icpc_portal.middleware.KeptAnonymousPagesMiddleware): byte for byte and header for header what
the first visitor got, never after a change, never to someone with a session, and never in place
of the first-visit redirect to French or of the refusal of a host that is not allowed."""

import pytest
from django.test import Client

from events import services
from tests.events.conftest import DETAILS
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def _seats(html: str) -> str:
    return html.split('class="seats">', 1)[1].split("<", 1)[0]


@pytest.fixture
def event(db):
    return EventFactory()


def test_the_second_visitor_gets_the_first_ones_page_before_any_middleware_below(
    client, event, django_assert_num_queries
):
    address = event.get_absolute_url()
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
    address = event.get_absolute_url()
    for _ in range(2):
        assert _seats(Client().get(address).content.decode()) == "10 seats left"
    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, user=UserFactory(), details=DETAILS)
    assert _seats(Client().get(address).content.decode()) == "9 seats left"


def test_a_first_visit_from_a_french_browser_is_still_sent_to_the_french_page(event):
    address = event.get_absolute_url()
    Client().get(address, HTTP_ACCEPT_LANGUAGE="en")
    Client().get(address, HTTP_ACCEPT_LANGUAGE="en")
    response = Client().get(address, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302
    assert response["Location"] == f"/fr{address}"


def test_a_host_that_is_not_allowed_is_still_refused(event):
    address = event.get_absolute_url()
    Client().get(address)
    Client().get(address)
    assert Client().get(address, HTTP_HOST="evil.example").status_code == 400


def test_someone_with_a_session_is_never_served_a_visitors_page(event):
    address = event.get_absolute_url()
    Client().get(address)
    Client().get(address)
    member = Client()
    member.force_login(UserFactory())
    page = member.get(address).content.decode()
    assert "Sign out" in page
    assert "Sign in to register." not in page
