"""The Board's and the applications' notices through the outbox: once each, links hidden."""

import datetime

import pytest
from django.utils import timezone

from board import services
from board.models import Choice, VoteReminder
from core.models import OutboxMessage
from tests.board.conftest import application_with_board, vote

pytestmark = pytest.mark.django_db


def test_the_new_representatives_invitation_is_never_shown_to_staff(
    board, rule, staff, applicant, outbox, django_capture_on_commit_callbacks
):
    application, ballot = application_with_board(applicant=applicant, staff=staff)

    with django_capture_on_commit_callbacks(execute=True):
        for director in board.directors[:4]:
            vote(ballot, director, Choice.FOR)

    welcome = OutboxMessage.objects.get(purpose=f"applications.welcome:{application.pk}")
    assert welcome.sensitive
    approved = OutboxMessage.objects.get(purpose=f"applications.decision:{ballot.pk}")
    assert approved.to == applicant.email and not approved.sensitive
    # Delivered once each, and the invitation's link went out to the representative only.
    (sent,) = [m for m in outbox if m.to == [welcome.to]]
    assert "/accounts/password/reset/key/" in sent.body


def test_reminders_sent_twice_by_two_runs_queue_one_email_per_director(
    board, rule, staff, applicant, outbox
):
    _application, ballot = application_with_board(
        applicant=applicant, staff=staff, deadline=timezone.now() + datetime.timedelta(hours=30)
    )

    assert services.send_vote_reminders() == 7
    VoteReminder.objects.all().delete()  # as if a second worker had not seen the first's rows
    services.send_vote_reminders()

    reminders = OutboxMessage.objects.filter(purpose=f"board.vote-reminder:{ballot.pk}")
    assert reminders.count() == 7
    assert {row.to for row in reminders} == {d.email for d in board.directors}
