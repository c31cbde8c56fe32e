"""allauth's emails go through the outbox too, and their links are treated as secrets."""

import re

import pytest

from core.models import OutboxMessage, OutboxStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_password_reset_email_is_stored_as_sensitive_and_sent_once(
    client, outbox, django_capture_on_commit_callbacks
):
    factories.UserFactory(email="forgetful@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "forgetful@example.org"})

    assert response.status_code == 302
    row = OutboxMessage.objects.get()
    assert (row.to, row.purpose, row.sensitive) == ("forgetful@example.org", "", True)
    assert row.status == OutboxStatus.SENT
    (message,) = outbox
    assert message.to == ["forgetful@example.org"]
    assert "Password Reset" in message.subject
    assert re.search(r"/accounts/password/reset/key/\S+", message.body)
    # Sent: the link is no longer kept in the database.
    assert row.body == ""
    assert row.subject == message.subject


def test_a_sensitive_email_keeps_its_body_until_it_is_sent(
    client, outbox, smtp_down, django_capture_on_commit_callbacks
):
    factories.UserFactory(email="forgetful@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "forgetful@example.org"})

    row = OutboxMessage.objects.get()
    assert row.status == OutboxStatus.PENDING  # to be tried again: the link must still be there
    assert "/accounts/password/reset/key/" in row.body
