"""Two directors' final votes at the same moment, on PostgreSQL: the Board decides once."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from board.models import Ballot, BallotStatus, Choice, Outcome, Vote
from members.models import Membership, MembershipStatusChange, Organisation, Representative
from tests import factories
from tests.board.conftest import application_with_board, in_days, vote
from tests.concurrency import race

# Each thread opens its own connection, so the test data must really be committed.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_final_votes_at_once_decide_the_application_once(
    postgres, board, rule, applicant, staff, mailoutbox
):
    application, ballot = application_with_board(applicant=applicant, staff=staff)
    # Quorum 50 % of 7 is 4. Three for: whichever of the next two votes for lands first makes
    # the approval certain (4 for, and the 3 others cannot outvote it).
    for director in board.directors[:3]:
        vote(ballot, director, Choice.FOR)
    first, second = board.directors[3], board.directors[4]
    mailoutbox.clear()

    results = race(
        lambda: vote(ballot, first, Choice.FOR),
        lambda: vote(ballot, second, Choice.FOR),
    )

    errors = [r for r in results if isinstance(r, Exception)]
    recorded = [r for r in results if isinstance(r, Vote)]
    assert len(recorded) >= 1, results
    assert len(recorded) + len(errors) == 2, results
    for error in errors:  # a clean refusal, never a database error
        assert isinstance(error, ValidationError), repr(error)
        assert "This vote is closed" in " ".join(error.messages)
    ballot.refresh_from_db()
    assert (ballot.status, ballot.outcome) == (BallotStatus.DECIDED, Outcome.APPROVED)
    assert ballot.tally["for"] == 3 + len(recorded)
    assert ballot.votes.count() == 3 + len(recorded)
    assert Organisation.objects.count() == 1
    assert Membership.objects.count() == 1
    assert MembershipStatusChange.objects.count() == 1
    assert Representative.objects.count() == 1
    application.refresh_from_db()
    assert application.organisation == Organisation.objects.get()
    assert application.events.filter(to_status="approved").count() == 1
    welcomes = [m for m in mailoutbox if m.to == [applicant.email]]
    assert len(welcomes) == 1, [m.subject for m in welcomes]
    assert "is now a member" in welcomes[0].subject


def test_one_director_voting_twice_at_once_leaves_one_vote(postgres, board, rule, applicant, staff):
    application, ballot = application_with_board(applicant=applicant, staff=staff)
    director = board.others[0]

    results = race(
        lambda: vote(ballot, director, Choice.FOR),
        lambda: vote(ballot, director, Choice.AGAINST, "On reflection, no."),
    )

    assert all(isinstance(r, Vote) for r in results), results
    (only,) = Vote.objects.filter(ballot=ballot, director=director)
    assert only.choice in (Choice.FOR, Choice.AGAINST)
    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.OPEN


def test_two_approvals_of_the_same_organisation_at_once_admit_it_once(postgres, staff):
    from members import services as members

    def admit():
        return members.admit_organisation(
            name="Safer Cities Network",
            category="city",
            country="CA",
            city="Montréal",
            website="",
            description="",
            representative=factories.UserFactory(),
            title="Director",
            qualification="director",
            on=timezone.localdate(),
            by=staff,
            reason="Approved by the Board",
        )

    results = race(admit, admit)

    admitted = [r for r in results if isinstance(r, Membership)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(admitted) == 1, results
    (error,) = refused
    assert isinstance(error, ValidationError), repr(error)
    assert "is already a member" in " ".join(error.messages)
    assert Organisation.objects.count() == 1


def test_proposing_while_the_board_decides_on_the_same_organisation_never_deadlocks(
    postgres, board, rule, staff
):
    from members import services as members

    organisation = factories.OrganisationFactory()
    ballot = members.propose_honorary_membership(
        organisation=organisation, details="", deadline=in_days(7), by=staff
    )
    for director in board.directors[:3]:
        vote(ballot, director, Choice.FOR)

    results = race(
        lambda: vote(ballot, board.directors[3], Choice.FOR),
        lambda: members.propose_honorary_membership(
            organisation=organisation, details="", deadline=in_days(9), by=staff
        ),
    )

    assert isinstance(results[0], Vote), repr(results[0])
    proposal = results[1]
    # Either the first vote was still open, or the organisation is now a member: a refusal
    # the staff can read, never a database error.
    assert isinstance(proposal, ValidationError), repr(proposal)
    ballot.refresh_from_db()
    assert ballot.outcome == Outcome.APPROVED
    assert organisation.memberships.count() == 1


def test_withdrawing_while_staff_send_to_the_board_leaves_no_open_vote(
    postgres, board, rule, applicant, staff
):
    from applications import services as applications
    from tests.applications.conftest import submitted_application

    application = submitted_application(applicant)

    results = race(
        lambda: applications.withdraw_application(application=application, by=applicant),
        lambda: applications.send_to_board(application=application, by=staff, deadline=in_days(7)),
    )

    application.refresh_from_db()
    assert application.status == "withdrawn", results
    assert not Ballot.objects.about(application).open().exists()
