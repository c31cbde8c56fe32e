"""An email is a row written with the change that caused it, and leaves only once that commits."""

import base64

import pytest
from django.contrib.auth.models import Group
from django.core.mail import EmailMessage, send_mail
from django.db import transaction

from core.emails import send_templated_email, send_to_user
from core.mail import PortalEmail
from core.models import OutboxMessage, OutboxStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_rolled_back_change_leaves_no_row_and_sends_nothing(
    outbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        Group.objects.create(name="Volunteers")
        send_mail("Welcome", "body", None, ["lost@example.org"])
        assert OutboxMessage.objects.count() == 1  # written with the change...
        raise RuntimeError("the change fails")

    assert not Group.objects.filter(name="Volunteers").exists()
    assert not OutboxMessage.objects.exists()  # ...and undone with it
    assert callbacks == []
    assert outbox == []


def test_a_committed_change_sends_exactly_one_copy_after_the_commit(
    outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            Group.objects.create(name="Volunteers")
            send_mail("Welcome", "Hello from the outbox", None, ["member@example.org"])
        row = OutboxMessage.objects.get()
        assert row.status == OutboxStatus.PENDING
        assert outbox == []  # nothing leaves before the commit

    assert [(m.to, m.subject, m.body) for m in outbox] == [
        (["member@example.org"], "Welcome", "Hello from the outbox")
    ]
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert row.sent_at is not None
    assert row.attempts == 1
    assert outbox[0].extra_headers["Message-ID"] == row.headers["Message-ID"]


def test_each_recipient_gets_a_row_and_a_copy_of_their_own(
    outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EmailMessage("Agenda", "body", to=["a@example.org", "b@example.org"]).send()

    assert sorted(OutboxMessage.objects.values_list("to", flat=True)) == [
        "a@example.org",
        "b@example.org",
    ]
    assert sorted(m.to[0] for m in outbox) == ["a@example.org", "b@example.org"]
    assert all(len(m.to) == 1 for m in outbox)


def test_a_templated_email_is_stored_with_its_language_purpose_and_reply_address(
    outbox, notice_templates, django_capture_on_commit_callbacks
):
    user = factories.UserFactory(email="amina@example.org", language="fr")

    with django_capture_on_commit_callbacks(execute=True):
        send_to_user(
            template="core/email/notice",
            user=user,
            context={"event": "AGM 2027"},
            purpose="event-place:7",
        )

    row = OutboxMessage.objects.get()
    assert (row.to, row.language, row.purpose, row.sensitive) == (
        "amina@example.org",
        "fr",
        "event-place:7",
        False,
    )
    assert row.subject == "[ICPC] AGM 2027: your place is kept"
    (message,) = outbox
    assert message.to == ["amina@example.org"]
    assert message.subject == "[ICPC] AGM 2027: your place is kept"
    assert "Hello amina@example.org," in message.body
    assert "/events/1/" in message.body


def test_a_calendar_file_survives_the_outbox(outbox, django_capture_on_commit_callbacks):
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:AGM é\r\nEND:VCALENDAR\r\n"

    with django_capture_on_commit_callbacks(execute=True):
        PortalEmail(
            "Your place at the AGM",
            "See the attached invitation.",
            to=["member@example.org"],
            attachments=[("agm.ics", ics, "text/calendar")],
            purpose="agm-invitation:2027",
        ).send()

    row = OutboxMessage.objects.get()
    assert row.attachments[0]["filename"] == "agm.ics"
    assert base64.b64decode(row.attachments[0]["content"]).decode() == ics
    (message,) = outbox
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == ("agm.ics", "text/calendar")
    assert content == ics
    assert b"agm.ics" in message.message().as_bytes()


def test_a_portal_email_with_an_invitation_link_is_stored_as_sensitive(
    outbox, notice_templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_templated_email(
            template="core/email/notice",
            to=["rep@example.org"],
            context={"event": "AGM", "user": {"email": "rep@example.org"}},
            sensitive=True,
        )

    row = OutboxMessage.objects.get()
    assert row.sensitive
    assert row.language == "en"
    assert len(outbox) == 1


def test_without_the_outbox_tests_still_see_each_email_in_mailoutbox(mailoutbox, settings):
    """The default for every other test: pytest-django's locmem backend, no outbox row."""
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    send_mail("Direct", "body", None, ["member@example.org"])

    assert [m.subject for m in mailoutbox] == ["Direct"]
    assert not OutboxMessage.objects.exists()
