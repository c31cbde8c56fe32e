"""Subscribing on the public page with a confirmation by email, the signed links, and the
preferences page reached from an email without signing in."""

import pytest
from django.urls import reverse

from newsletter import tokens
from newsletter.models import Subscriber, SubscriberStatus
from tests.factories import EditionFactory, SubscriberFactory, TopicFactory
from tests.newsletter.conftest import links_in, manage_token, path_of, send_now

pytestmark = pytest.mark.django_db

SUBSCRIBE = reverse("newsletter:subscribe")


@pytest.fixture
def subscribe(client, committed):
    def post(email="visitor@example.net", language="fr", **extra):
        with committed():
            return client.post(SUBSCRIBE, {"email": email, "language": language, **extra})

    return post


def test_a_visitor_subscribes_and_nothing_but_the_confirmation_is_sent_until_they_confirm(
    client, outbox, subscribe
):
    response = subscribe(email="Visitor@Example.net")

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "visitor@example.net"
    assert subscriber.status == SubscriberStatus.PENDING
    assert subscriber.language == "fr"
    assert [m.to for m in outbox] == [["visitor@example.net"]]
    confirmation = outbox[0]
    # In the language chosen, with a link to confirm.
    assert "Confirmez" in confirmation.subject or "Confirm" in confirmation.subject
    (link,) = [url for url in links_in(confirmation.body) if "/confirm/" in url]

    # An edition sent now does not reach the unconfirmed address.
    send_now(EditionFactory())
    assert len(outbox) == 1

    page = client.get(path_of(link))
    assert page.status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING  # a GET confirms nothing
    confirmed = client.post(path_of(link))
    assert confirmed.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.SUBSCRIBED
    assert subscriber.confirmed_at is not None

    send_now(EditionFactory())
    assert [m.to for m in outbox][1:] == [["visitor@example.net"]]


def test_subscribing_an_address_already_subscribed_shows_the_same_page_and_changes_nothing(
    outbox, subscribe
):
    SubscriberFactory(email="known@example.net", language="en")

    known = subscribe(email="known@example.net", language="fr")
    unknown = subscribe(email="new@example.net", language="fr")

    def without_address(response, email):
        return response.content.decode().replace(email, "")

    assert known.status_code == unknown.status_code == 200
    assert without_address(known, "known@example.net") == without_address(
        unknown, "new@example.net"
    )
    assert Subscriber.objects.get(email="known@example.net").language == "en"
    assert [m.to for m in outbox] == [["new@example.net"]]


def test_someone_who_unsubscribed_must_confirm_again_to_come_back(outbox, subscribe):
    SubscriberFactory(email="back@example.net", status=SubscriberStatus.UNSUBSCRIBED)

    subscribe(email="back@example.net")

    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    assert [m.to for m in outbox] == [["back@example.net"]]


def test_topics_chosen_on_the_page_are_kept(outbox, subscribe):
    first, _second = TopicFactory(), TopicFactory()

    subscribe(topics=[first.pk])

    assert list(Subscriber.objects.get().topics.all()) == [first]


def test_a_wrong_address_is_said_next_to_the_field_and_kept(subscribe):
    response = subscribe(email="not-an-address")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert 'value="not-an-address"' in page
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("view", ["confirm", "preferences", "unsubscribe"])
def test_a_changed_link_is_refused_with_a_clear_page(client, view):
    subscriber = SubscriberFactory(status=SubscriberStatus.PENDING)
    purpose = tokens.CONFIRM if view == "confirm" else tokens.MANAGE
    token = tokens.make_token(purpose, pk=subscriber.pk, email=subscriber.email)
    other = SubscriberFactory()
    tampered = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        f"{other.pk}.{token.split('.', 1)[1]}",  # another subscriber's number
        tokens.make_token(purpose, pk=subscriber.pk, email="someone.else@example.net"),
        "garbage",
    ]
    for bad in tampered:
        for method in (client.get, client.post):
            response = method(reverse(f"newsletter:{view}", args=[bad]))
            assert response.status_code == 400, (bad, method)
            assert "This link does not work" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING


def test_a_confirmation_link_does_not_unsubscribe_and_a_manage_link_does_not_confirm(client):
    subscriber = SubscriberFactory(status=SubscriberStatus.PENDING)
    confirm = tokens.make_token(tokens.CONFIRM, pk=subscriber.pk, email=subscriber.email)

    assert client.post(reverse("newsletter:unsubscribe", args=[confirm])).status_code == 400
    assert (
        client.post(reverse("newsletter:confirm", args=[manage_token(subscriber)])).status_code
        == 400
    )
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING


def test_the_preferences_change_the_language_and_topics_without_signing_in(client):
    topic = TopicFactory()
    subscriber = SubscriberFactory(language="en")
    url = reverse("newsletter:preferences", args=[manage_token(subscriber)])

    page = client.get(url)
    assert page.status_code == 200
    assert subscriber.email in page.content.decode()

    response = client.post(url, {"language": "fr", "topics": [topic.pk]})

    assert response.status_code == 200
    assert "Your preferences are saved." in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.language == "fr"
    assert list(subscriber.topics.all()) == [topic]
    assert "_auth_user_id" not in client.session
