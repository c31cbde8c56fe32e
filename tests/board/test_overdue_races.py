"""The job closing overdue votes races the President closing by hand, and itself."""

import pytest

from board import services
from board.models import Ballot, BallotStatus, Choice
from members.models import Organisation
from tests.board.conftest import application_with_board, past_deadline, vote
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_president_closing_by_hand_and_the_job_decide_the_vote_once(
    postgres, board, rule, applicant, staff, mailoutbox
):
    application, ballot = application_with_board(applicant=applicant, staff=staff)
    # Three for and one against: three directors could still tie it, so it stays open.
    for director in board.others[:3]:
        vote(ballot, director, Choice.FOR)
    vote(ballot, board.others[3], Choice.AGAINST)
    past_deadline(ballot)

    def by_hand():
        try:
            services.close_ballot(ballot=Ballot.objects.get(pk=ballot.pk), by=board.president)
        except Exception as error:  # the job got there first
            return error
        return "closed"

    results = race(by_hand, services.close_overdue_ballots)

    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.DECIDED
    assert Organisation.objects.filter(name=application.org_name).count() == 1
    welcome = [m for m in mailoutbox if m.to == [application.rep_email]]
    assert len(welcome) == 1, results


def test_two_runs_of_the_job_at_once_decide_each_vote_once(postgres, board, rule, applicant, staff):
    application, ballot = application_with_board(applicant=applicant, staff=staff)
    # Three for and one against: three directors could still tie it, so it stays open.
    for director in board.others[:3]:
        vote(ballot, director, Choice.FOR)
    vote(ballot, board.others[3], Choice.AGAINST)
    past_deadline(ballot)

    first, second = race(services.close_overdue_ballots, services.close_overdue_ballots)

    assert sorted([first, second]) == [0, 1]
    assert Organisation.objects.filter(name=application.org_name).count() == 1
