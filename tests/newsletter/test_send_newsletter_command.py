"""``manage.py send_newsletter``: an edition sent by hand, the same service as the task."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from newsletter import services
from newsletter.models import EditionStatus
from tests.factories import EditionFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def test_send_newsletter_sends_the_edition_given_once(outbox, capsys):
    SubscriberFactory.create_batch(3)
    edition = EditionFactory()

    call_command("send_newsletter", str(edition.pk), "--batch-size", "2")
    call_command("send_newsletter", str(edition.pk))

    assert len(outbox) == 3
    edition.refresh_from_db()
    assert edition.status == EditionStatus.SENT
    assert f"Edition {edition.pk}: written 3, sent 3" in capsys.readouterr().out


def test_send_newsletter_without_an_edition_sends_the_due_ones(outbox):
    SubscriberFactory()
    due = EditionFactory()
    services.schedule_edition(
        edition=due, at=timezone.now() + datetime.timedelta(minutes=5), by=None
    )
    later = EditionFactory()
    services.schedule_edition(
        edition=later, at=timezone.now() + datetime.timedelta(days=2), by=None
    )
    type(due).objects.filter(pk=due.pk).update(scheduled_at=timezone.now())

    call_command("send_newsletter")

    assert [m.subject for m in outbox] == [f"[ICPC] {due.subject_en}"]
    with pytest.raises(CommandError, match="not due yet"):
        call_command("send_newsletter", str(later.pk))


def test_send_newsletter_refuses_an_edition_without_french(outbox):
    edition = EditionFactory(body_fr="")

    with pytest.raises(CommandError, match="French subject and text are missing"):
        call_command("send_newsletter", str(edition.pk))
