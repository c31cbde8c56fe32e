"""The header every page wears (icpc_portal/templatetags/portal_frame.py): kept once per language
and menu for signed-in people, with each person's own CSRF token and address filled in."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.autoreload import file_changed

from icpc_portal.templatetags.portal_frame import _signed_in_header
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LINK = 'href="/admin/"'


@pytest.fixture(autouse=True)
def english():
    """Addresses reversed in English, whatever an earlier test left active."""
    with translation.override("en"):
        yield


def header(response) -> str:
    page = response.content.decode()
    return page[page.index("<header>") : page.index("</header>")]


def sign_out_token(response) -> str:
    logout = r'<form method="post" action="/accounts/logout/".*?</form>'
    form = re.search(logout, header(response), re.S)
    assert form is not None
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0))
    assert found is not None
    return found.group(1)


def language_form_next(response) -> str:
    found = re.search(r'<input type="hidden" name="next" value="([^"]*)">', header(response))
    assert found is not None
    return found.group(1)


def test_each_person_signs_out_with_the_token_of_their_own_page():
    _signed_in_header.cache_clear()
    first, second = UserFactory(), UserFactory()
    clients = {}
    for person in (first, second):
        client = Client(enforce_csrf_checks=True)
        client.force_login(person)
        clients[person] = client
    first_page = clients[first].get(reverse("events:list"))
    second_page = clients[second].get(reverse("events:list"))
    # The same header, rendered once, with two people's tokens in it.
    assert _signed_in_header.cache_info().misses == 1
    assert sign_out_token(first_page) != sign_out_token(second_page)

    # The second person's token does not sign the first out; their own does.
    refused = clients[first].post(
        reverse("account_logout"), {"csrfmiddlewaretoken": sign_out_token(second_page)}
    )
    assert refused.status_code == 403
    assert SESSION_KEY in clients[first].session
    signed_out = clients[first].post(
        reverse("account_logout"), {"csrfmiddlewaretoken": sign_out_token(first_page)}
    )
    assert signed_out.status_code == 302
    assert SESSION_KEY not in clients[first].session


def test_the_language_form_comes_back_to_the_page_it_was_on_escaped(client, user):
    client.force_login(user)
    # An address with a quote as the server receives it (a client may send one unencoded):
    # it comes back encoded, and nothing of it opens a tag.
    response = client.get("/events/", QUERY_STRING='kind=x"><script>alert(1)</script>&a=1')
    assert language_form_next(response) == (
        "/events/?kind=x%22%3E%3Cscript%3Ealert(1)%3C/script%3E&amp;a=1"
    )
    assert "<script>alert(1)" not in response.content.decode()
    assert language_form_next(client.get("/events/?kind=webinar&x=<b>")) == (
        "/events/?kind=webinar&amp;x=%3Cb%3E"
    )
    assert language_form_next(client.get(reverse("accounts:profile"))) == "/accounts/profile/"


def test_the_header_follows_the_person_language_and_part_of_the_site(client):
    client.force_login(StaffFactory())
    events = header(client.get(reverse("events:list")))
    assert ADMIN_LINK in events
    assert 'class="nav-link active" aria-current="page" href="/events/"' in events

    other = Client()
    other.force_login(UserFactory())
    assert ADMIN_LINK not in header(other.get(reverse("events:list")))

    with translation.override("fr"):
        french = header(client.get(reverse("events:list")))
        assert f'href="{reverse("admin:index")}"' in french
    assert "Se déconnecter" in french


def test_an_edited_template_is_rendered_afresh_under_runserver(client, user, tmp_path):
    client.force_login(user)
    client.get(reverse("events:list"))
    assert _signed_in_header.cache_info().currsize >= 1
    file_changed.send(sender=None, file_path=tmp_path / "header.html")
    assert _signed_in_header.cache_info().currsize == 0
