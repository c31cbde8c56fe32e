"""A vote whose deadline has passed closes itself, under the rule copied onto it."""

import datetime

from django.utils import timezone

from applications.models import Status
from board import services, tasks
from board.models import BallotStatus, Choice, Outcome, VotingRule
from members.models import Organisation
from tests.board.conftest import application_with_board, past_deadline, vote


def test_an_overdue_vote_closes_itself_with_the_votes_cast(board, ballot, application):
    for director in board.others[:3]:
        vote(ballot, director, Choice.FOR)
    vote(ballot, board.others[3], Choice.AGAINST)
    past_deadline(ballot)

    assert tasks.close_overdue_ballots() == 1

    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.DECIDED
    assert ballot.outcome == Outcome.APPROVED  # 3 for, 1 against; quorum 4 of 7
    assert ballot.closed_by is None
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert Organisation.objects.filter(pk=application.organisation_id).exists()


def test_a_vote_before_its_deadline_stays_open(board, ballot):
    vote(ballot, board.others[0], Choice.FOR)

    assert services.close_overdue_ballots() == 0

    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.OPEN


def test_an_overdue_vote_closes_under_the_rule_copied_onto_it_not_the_rule_now(
    board, ballot, rule, db
):
    # Opened under a 50 % quorum: four votes of seven are enough.
    for director in board.others[:3]:
        vote(ballot, director, Choice.FOR)
    vote(ballot, board.others[3], Choice.AGAINST)
    VotingRule.objects.filter(pk=rule.pk).update(quorum_percent=100)
    past_deadline(ballot)

    services.close_overdue_ballots()

    ballot.refresh_from_db()
    assert ballot.outcome == Outcome.APPROVED


def test_an_overdue_vote_without_quorum_is_no_decision_and_goes_back_to_the_staff(
    board, ballot, application, mailoutbox, staff
):
    vote(ballot, board.others[0], Choice.FOR)
    past_deadline(ballot)

    services.close_overdue_ballots()

    ballot.refresh_from_db()
    assert ballot.outcome == Outcome.NO_QUORUM
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert any(m.to == [staff.email] and "without quorum" in m.subject for m in mailoutbox)


def test_a_vote_opens_and_closes_without_a_sitting_president(board, applicant, staff):
    type(board.president).objects.filter(pk=board.president.pk).update(is_board_president=False)
    application, ballot = application_with_board(applicant=applicant, staff=staff)
    for director in board.others[:3]:
        vote(ballot, director, Choice.AGAINST)
    vote(ballot, board.others[3], Choice.FOR)
    past_deadline(ballot)

    services.close_overdue_ballots()

    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.DECIDED
    assert ballot.outcome == Outcome.REJECTED


def test_one_vote_that_cannot_close_does_not_stop_the_others(board, applicant, staff, monkeypatch):
    _first_app, first = application_with_board(applicant=applicant, staff=staff)
    _second_app, second = application_with_board(
        applicant=applicant, staff=staff, org_name="Second organisation"
    )
    for ballot in (first, second):
        past_deadline(ballot)
    real_decide = services._decide

    def fail_on_first(locked, *args):
        if locked.pk == first.pk:
            raise RuntimeError("database hiccup")
        return real_decide(locked, *args)

    monkeypatch.setattr(services, "_decide", fail_on_first)

    assert services.close_overdue_ballots(now=timezone.now() + datetime.timedelta(seconds=1)) == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (BallotStatus.OPEN, BallotStatus.DECIDED)
