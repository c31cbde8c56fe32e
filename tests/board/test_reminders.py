"""Directors who have not voted are reminded once when a deadline is near."""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from board import services, tasks
from board.models import Choice, VoteReminder
from icpc_portal.celery import app as celery_app
from members import services as members
from tests import factories
from tests.board.conftest import in_days, vote

pytestmark = pytest.mark.django_db


def open_vote(staff, deadline: datetime.datetime, title: str):
    return members.propose_honorary_membership(
        organisation=factories.OrganisationFactory(name=title),
        details="",
        deadline=deadline,
        by=staff,
    )


@pytest.fixture
def soon(board, rule, staff):
    """A vote closing in 30 hours on which two directors have already voted."""
    ballot = open_vote(staff, timezone.now() + datetime.timedelta(hours=30), "Closing soon")
    vote(ballot, board.directors[0], Choice.FOR)
    vote(ballot, board.directors[1], Choice.AGAINST, "No.")
    return ballot


def reminders(outbox) -> list:
    return [m for m in outbox if m.subject.startswith("[ICPC] Reminder: your vote on")]


def test_directors_who_have_not_voted_are_reminded_when_the_deadline_is_within_48_hours(
    board, soon, mailoutbox
):
    mailoutbox.clear()

    sent = services.send_vote_reminders()

    assert sent == 5
    assert sorted(m.to[0] for m in mailoutbox) == sorted(d.email for d in board.directors[2:])
    message = reminders(mailoutbox)[0]
    question = "Appointment of an honorary member: Closing soon"
    assert message.subject == f"[ICPC] Reminder: your vote on {question}"
    assert f"You have not voted yet on {question}" in message.body
    assert f"/admin/board/ballot/{soon.pk}/change/" in message.body
    assert set(VoteReminder.objects.values_list("director_id", flat=True)) == {
        d.pk for d in board.directors[2:]
    }


def test_no_reminder_for_votes_further_away_closed_or_past_their_deadline(
    board, rule, staff, mailoutbox
):
    open_vote(staff, in_days(3), "In three days")
    open_vote(staff, timezone.now() + datetime.timedelta(hours=49), "Just outside the window")
    decided = open_vote(staff, in_days(1), "Decided already")
    for director in board.directors[:4]:
        vote(decided, director, Choice.FOR)
    cancelled = open_vote(staff, in_days(1), "Cancelled")
    services.cancel_ballot(ballot=cancelled, reason="The question is gone.")
    mailoutbox.clear()

    assert services.send_vote_reminders() == 0
    assert mailoutbox == []
    assert not VoteReminder.objects.exists()
    now = timezone.now()
    # Once every deadline has passed there is nothing left to remind anyone of.
    assert services.send_vote_reminders(now=now + datetime.timedelta(days=4)) == 0
    # A day and a half later, both open votes are within 48 hours of closing: 7 directors each.
    assert services.send_vote_reminders(now=now + datetime.timedelta(hours=36)) == 14
    assert set(VoteReminder.objects.values_list("ballot__subject_label", flat=True)) == {
        "In three days",
        "Just outside the window",
    }


def test_former_and_inactive_directors_are_not_reminded(board, soon, mailoutbox):
    gone = board.others[3]
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    mailoutbox.clear()

    assert services.send_vote_reminders() == 4
    assert gone.email not in [m.to[0] for m in mailoutbox]


def test_running_the_reminders_twice_sends_nothing_new(board, soon, mailoutbox):
    services.send_vote_reminders()
    mailoutbox.clear()

    assert services.send_vote_reminders() == 0

    assert mailoutbox == []
    assert VoteReminder.objects.filter(ballot=soon).count() == 5
    for director in board.directors[2:]:
        assert VoteReminder.objects.filter(ballot=soon, director=director).count() == 1


def test_a_director_who_votes_after_a_reminder_is_not_reminded_again(board, soon, mailoutbox):
    services.send_vote_reminders()
    vote(soon, board.directors[2], Choice.ABSTAIN)
    mailoutbox.clear()

    assert services.send_vote_reminders() == 0


def test_the_celery_task_sends_the_same_reminders(board, soon, mailoutbox):
    mailoutbox.clear()

    result = tasks.send_vote_reminders.apply()

    assert result.successful()
    assert result.get() == 5
    assert len(reminders(mailoutbox)) == 5
    assert tasks.send_vote_reminders.apply().get() == 0


def test_the_management_command_sends_the_same_reminders(board, soon, mailoutbox, capsys):
    mailoutbox.clear()

    call_command("send_vote_reminders")

    assert capsys.readouterr().out.strip() == "5 reminder(s) sent."
    assert len(reminders(mailoutbox)) == 5


def test_reminders_run_every_hour_from_the_beat_schedule():
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "board.send_vote_reminders"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] == 3600.0
    assert "board.send_vote_reminders" in celery_app.tasks
    assert celery_app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
