"""Without a broker there is no beat: ops send what waits in the outbox by hand or from cron."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import OutboxMessage, OutboxStatus
from tests.core.conftest import make_row

pytestmark = pytest.mark.django_db


def test_the_command_sends_what_is_pending_and_due_once(outbox):
    waiting = make_row(to="waiting@example.org", subject="[ICPC] Waiting")
    later = make_row(to="later@example.org", subject="[ICPC] Later")
    OutboxMessage.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + datetime.timedelta(hours=1)
    )
    out = io.StringIO()

    call_command("send_pending_emails", stdout=out)
    call_command("send_pending_emails", stdout=out)

    assert [(m.to, m.subject) for m in outbox] == [(["waiting@example.org"], "[ICPC] Waiting")]
    assert "1 pending email(s) sent." in out.getvalue()
    waiting.refresh_from_db()
    assert waiting.status == OutboxStatus.SENT


def test_the_command_forgets_old_emails_when_asked(outbox):
    old = make_row(status=OutboxStatus.SENT, sent_at=timezone.now())
    OutboxMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=400)
    )
    out = io.StringIO()

    call_command("send_pending_emails", "--purge", stdout=out)

    assert not OutboxMessage.objects.filter(pk=old.pk).exists()
    assert "1 old email(s) forgotten." in out.getvalue()
