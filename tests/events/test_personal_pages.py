"""A signed-in person's event pages are kept for them (core.personalpages): served again without
being made while nothing they show has changed, and never once it has: a registration, a
payment, the end of their membership, a removed contact, the cut-off passing, registration
closing. Their forms keep working (each serving has the request's own CSRF token), a message is
shown once, and nobody is ever served another person's page."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core.personalpages import TOKEN_MARKER
from events import services
from events.models import Registration
from members.models import EndReason
from members.services import end_membership
from members.services.contacts import remove_contact
from tests.budgets import SESSION_QUERIES
from tests.events.conftest import DETAILS
from tests.factories import EventFactory, with_member_and_public_fees

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _shared_generations(redis_url):
    """Pages are kept only where the generations are shared by every process (Redis)."""
    from core.pagecache import generations_shared
    from tests.conftest import need

    need("Redis as the cache", generations_shared(), "set REDIS_URL to a running Redis server")


def _kept(client, address: str) -> str:
    """The page, served from memory: no query but the session's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        page = client.get(address).content.decode()
    assert len(captured) == SESSION_QUERIES, [q["sql"] for q in captured.captured_queries]
    return page


def _fee(html: str) -> str:
    return re.sub(r"\s+", " ", html.split('class="mb-2 your-fee">', 1)[1].split("</p>", 1)[0])


def test_a_second_visit_is_served_from_memory_without_a_query_but_the_session(
    client, event, representative, django_assert_num_queries
):
    client.force_login(representative)
    for address in ("/events/", event.get_absolute_url(), "/events/my/"):
        first = client.get(address)
        assert first.status_code == 200
        with django_assert_num_queries(SESSION_QUERIES):
            again = client.get(address)
        assert again.status_code == 200
        assert again.content == first.content.replace(
            _token(first).encode(), _token(again).encode()
        )


def _token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def test_the_forms_of_a_kept_page_carry_each_sessions_own_token_and_work(event, outsider):
    """Two sessions of one person (a laptop and a phone) share the kept page; each gets the
    token of its own session, which the other's is refused with."""
    registration = services.register(event=event, user=outsider, details=DETAILS)
    laptop, phone = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for client in (laptop, phone):
        client.force_login(outsider)
    laptop.get("/events/my/")
    kept = {client: client.get("/events/my/") for client in (laptop, phone)}
    for response in kept.values():
        assert TOKEN_MARKER not in response.content.decode()
    cancel = f"/events/registrations/{registration.pk}/cancel/"
    assert f'action="{cancel}"' in kept[phone].content.decode()

    wrong = phone.post(cancel, {"csrfmiddlewaretoken": _token(kept[laptop])})
    assert wrong.status_code == 403
    response = phone.post(cancel, {"csrfmiddlewaretoken": _token(kept[phone])})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == "cancelled"


def test_no_address_a_visitor_makes_up_can_reveal_the_token(client, event, outsider):
    """The header writes the address back (the language form): a marker anyone could guess,
    written into the address, would be replaced by the token there too."""
    client.force_login(outsider)
    guesses = "personal-page-csrf-token-here csrf-marker portal-frame-csrf-token-here"
    for _ in range(2):  # made, then served from memory
        page = client.get("/events/", {"x": guesses}).content.decode()
        assert TOKEN_MARKER not in page
        assert _in_forms_only(page)


def _in_forms_only(page: str) -> bool:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    return page.count(token) == page.count('name="csrfmiddlewaretoken"')


def test_a_registration_shows_at_once_on_the_event_page_and_my_registrations(
    client, event, outsider, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    for _ in range(2):
        assert "You are registered." not in client.get(event.get_absolute_url()).content.decode()
        assert event.title not in client.get("/events/my/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, user=outsider, details=DETAILS)

    assert "You are registered." in client.get(event.get_absolute_url()).content.decode()
    assert event.title in client.get("/events/my/").content.decode()


def test_a_payment_marked_by_the_staff_shows_at_once(
    client, event, outsider, centre_staff, django_capture_on_commit_callbacks
):
    registration = services.register(event=event, user=outsider, details=DETAILS)
    client.force_login(outsider)
    for _ in range(2):
        assert "Received on" not in client.get("/events/my/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.mark_paid(registrations=[registration], by=centre_staff)

    assert "Received on" in client.get("/events/my/").content.decode()


def test_a_member_whose_membership_ends_is_shown_the_non_member_fee_at_once(
    client, event, member_org, representative, django_capture_on_commit_callbacks
):
    client.force_login(representative)
    for _ in range(2):
        page = client.get(event.get_absolute_url()).content.decode()
        assert "as a member of the Centre" in _fee(page)

    with django_capture_on_commit_callbacks(execute=True):
        end_membership(
            membership=member_org.memberships.get(),
            reason=EndReason.RESIGNED,
            note="",
            on=timezone.localdate(),
            by=None,
            tell=False,
        )

    fee = _fee(client.get(event.get_absolute_url()).content.decode())
    assert "as a member of the Centre" not in fee
    assert "250" in fee


def test_a_removed_contact_is_shown_the_non_member_fee_at_once(
    client, event, member_org, representative, django_capture_on_commit_callbacks
):
    from members.models import Contact
    from tests.factories import ContactFactory

    contact = ContactFactory(organisation=member_org)
    client.force_login(contact.user)
    for _ in range(2):
        assert "as a member" in _fee(client.get(event.get_absolute_url()).content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        remove_contact(contact=Contact.objects.get(pk=contact.pk), by=representative)

    assert "as a member" not in _fee(client.get(event.get_absolute_url()).content.decode())


def test_the_cancel_button_goes_when_the_cut_off_passes(client, outsider, monkeypatch):
    now = timezone.now()
    event = with_member_and_public_fees(
        EventFactory(cancellation_cutoff=now + datetime.timedelta(minutes=2))
    )
    services.register(event=event, user=outsider, details=DETAILS)
    client.force_login(outsider)
    assert "Cancel my registration" in client.get("/events/my/").content.decode()
    assert "Cancel my registration" in _kept(client, "/events/my/")

    later = now + datetime.timedelta(minutes=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    page = client.get("/events/my/").content.decode()
    assert "Cancel my registration" not in page
    assert "The date to cancel online has passed" in page


def test_the_register_button_goes_when_registration_closes(client, outsider, monkeypatch):
    now = timezone.now()
    event = with_member_and_public_fees(
        EventFactory(registration_closes_at=now + datetime.timedelta(minutes=2))
    )
    client.force_login(outsider)
    client.get(event.get_absolute_url())
    assert "Registration is closed." not in _kept(client, event.get_absolute_url())

    later = now + datetime.timedelta(minutes=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "Registration is closed." in client.get(event.get_absolute_url()).content.decode()


def test_an_early_bird_fee_that_ends_tonight_is_not_shown_after_midnight(
    client, outsider, monkeypatch
):
    from events.models import FeeAudience
    from tests.factories import FeeTierFactory

    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    before = datetime.datetime.combine(today, datetime.time(23, 58), tzinfo=zone)
    after = before + datetime.timedelta(minutes=3)  # well within a kept page's five minutes
    monkeypatch.setattr(timezone, "now", lambda: before)
    event = EventFactory(starts_at=before + datetime.timedelta(days=30))
    FeeTierFactory(event=event, name="Early bird", amount=100, available_until=today)
    FeeTierFactory(event=event, name="Non-member fee", audience=FeeAudience.EVERYONE, amount=250)
    client.force_login(outsider)
    client.get(event.get_absolute_url())
    assert "Early bird" in _fee(_kept(client, event.get_absolute_url()))

    monkeypatch.setattr(timezone, "now", lambda: after)
    assert "Early bird" not in _fee(client.get(event.get_absolute_url()).content.decode())


def test_a_message_is_shown_once_and_the_page_after_it_is_the_persons_own(
    client, event, outsider, django_capture_on_commit_callbacks
):
    registration = services.register(event=event, user=outsider, details=DETAILS)
    client.force_login(outsider)
    client.get("/events/my/")
    client.get("/events/my/")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/events/registrations/{registration.pk}/cancel/", follow=True)
    assert "is cancelled" in response.content.decode()
    page = client.get("/events/my/").content.decode()
    assert "is cancelled" not in page
    assert "badge registration-cancelled" in page
    assert "Cancel my registration" not in page
    assert Registration.objects.get(pk=registration.pk).status == "cancelled"


def test_nobody_is_served_another_persons_page(client, event, representative, outsider):
    services.register(event=event, user=outsider, details=DETAILS)
    client.force_login(outsider)
    theirs = client.get(event.get_absolute_url()).content.decode()
    assert "You are registered." in theirs

    other = Client()
    other.force_login(representative)
    for _ in range(2):
        page = other.get(event.get_absolute_url()).content.decode()
        assert "You are registered." not in page
        assert "as a member of the Centre" in _fee(page)
    for _ in range(2):
        assert event.title not in other.get("/events/my/").content.decode()


def test_each_language_is_kept_apart(client, event, outsider):
    english = reverse("events:detail", args=[event.slug])
    with translation.override("fr"):
        french = reverse("events:detail", args=[event.slug])
    assert french.startswith("/fr/")
    client.force_login(outsider)
    for _ in range(2):
        assert '<html lang="en">' in client.get(english).content.decode()
        assert '<html lang="fr">' in client.get(french).content.decode()


def test_a_person_made_staff_sees_the_administration_link_at_once(
    client, event, outsider, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    for _ in range(2):
        assert "/admin/" not in client.get(event.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        outsider.is_staff = True
        outsider.save()

    assert "/admin/" in client.get(event.get_absolute_url()).content.decode()


def test_without_shared_generations_no_page_is_kept(client, event, outsider, settings):
    """Each process would count its own: a change made in a worker would never retire them."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    client.force_login(outsider)
    client.get("/events/my/")
    services.register(event=event, user=outsider, details=DETAILS)  # no bump: never committed
    assert event.title in client.get("/events/my/").content.decode()


def test_a_change_between_reading_the_person_and_their_page_is_not_kept(
    client, event, centre_staff, monkeypatch
):
    """The account is read (kept or not) before the page's generations: a change committed
    in between shows in the generation but not in the account the page was made with."""
    from accounts import backends
    from accounts.models import User
    from accounts.people import PEOPLE

    address = event.get_absolute_url()
    client.force_login(centre_staff)
    client.get(address)
    assert "/admin/" in _kept(client, address)
    read_first = backends.kept_account

    def then_changed(user_id):
        user = read_first(user_id)
        monkeypatch.setattr(backends, "kept_account", read_first)  # once
        User.objects.filter(pk=user_id).update(is_staff=False)
        PEOPLE.bump()
        return user

    monkeypatch.setattr(backends, "kept_account", then_changed)
    client.get(address)  # made with the account of before: served, not kept
    assert "/admin/" not in client.get(address).content.decode()


def test_a_cancel_clicked_twice_on_a_kept_page_cancels_once(
    client, event, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    registration = services.register(event=event, user=outsider, details=DETAILS)
    client.force_login(outsider)
    client.get("/events/my/")
    _kept(client, "/events/my/")
    mailoutbox.clear()
    cancel = f"/events/registrations/{registration.pk}/cancel/"
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(cancel)
        second = client.post(cancel)
    assert first.status_code == second.status_code == 302
    event.refresh_from_db()
    assert event.seats_taken == 0
    assert len([m for m in mailoutbox if outsider.email in m.to]) == 1
