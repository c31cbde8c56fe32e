"""Unsubscribing: RFC 8058's headers on a message the outbox really delivered, the one-click
POST without a session or a CSRF token, and a GET (a link scanner) that unsubscribes no one."""

import email
import email.policy

import pytest
from django.test import Client
from django.urls import reverse

from core.models import OutboxMessage, OutboxStatus
from newsletter.models import SubscriberStatus
from tests.factories import EditionFactory, SubscriberFactory
from tests.newsletter.conftest import manage_token, path_of, send_now

pytestmark = pytest.mark.django_db


def test_a_delivered_edition_carries_the_one_click_unsubscribe_headers_and_a_visible_link(outbox):
    subscriber = SubscriberFactory(email="reader@example.net")

    send_now(EditionFactory())

    row = OutboxMessage.objects.get()
    assert row.status == OutboxStatus.SENT
    (sent,) = outbox
    # The message as the mail server received it.
    message = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    targets = [part.strip().strip("<>") for part in message["List-Unsubscribe"].split(",")]
    https, mailto = targets
    token = manage_token(subscriber)
    assert https.startswith("http") and https.endswith(
        reverse("newsletter:unsubscribe", args=[token])
    )
    assert mailto == f"mailto:unsubscribe+{token}@cipc-icpc.org"
    # Plain text and HTML, each with the visible link.
    assert message.get_body(("plain",)).get_content().count(https) == 1
    html = message.get_body(("html",)).get_content()
    assert f'href="{https}"' in html
    assert "<h2>This month</h2>" in html and "<strong>Safer</strong>" in html


def test_a_one_click_post_without_a_session_or_csrf_token_unsubscribes_at_once(outbox):
    subscriber = SubscriberFactory()
    send_now(EditionFactory())
    https = outbox[0].extra_headers["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    mail_client = Client(enforce_csrf_checks=True)

    response = mail_client.post(path_of(https), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert not mail_client.cookies.get("sessionid")
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    # The next edition skips them; a second click is harmless.
    send_now(EditionFactory())
    assert len(outbox) == 1
    assert mail_client.post(path_of(https), {"List-Unsubscribe": "One-Click"}).status_code == 200


def test_a_get_on_the_unsubscribe_link_shows_a_button_and_unsubscribes_no_one(client):
    subscriber = SubscriberFactory()
    url = reverse("newsletter:unsubscribe", args=[manage_token(subscriber)])

    response = client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert '<form method="post">' in page and "Unsubscribe</button>" in page
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.SUBSCRIBED


def test_the_unsubscribe_page_button_unsubscribes(client):
    subscriber = SubscriberFactory()

    client.post(reverse("newsletter:unsubscribe", args=[manage_token(subscriber)]))

    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    assert subscriber.status_changes.last().note == "from the unsubscribe page"
