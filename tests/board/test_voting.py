"""Casting votes: who may, how often, until when, and when the Board's decision is taken."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import BOARD_GROUP
from applications.models import ApplicationEvent, Status
from board import services
from board.models import Ballot, BallotStatus, Choice, Outcome, Vote
from members.models import Organisation
from tests import factories
from tests.board.conftest import past_deadline, vote, with_totp

pytestmark = pytest.mark.django_db


def vote_url(ballot: Ballot) -> str:
    return reverse("admin:board_ballot_vote", args=[ballot.pk])


def close_url(ballot: Ballot) -> str:
    return reverse("admin:board_ballot_close", args=[ballot.pk])


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- who may vote -------------------------------------------------------------------------------


def staff_member():
    return factories.StaffFactory()


def former_director():
    person = factories.DirectorFactory()
    person.groups.remove(Group.objects.get(name=BOARD_GROUP))
    return person


def inactive_director():
    return factories.DirectorFactory(is_active=False)


NOT_DIRECTORS = pytest.mark.parametrize(
    "make_person",
    [staff_member, former_director, inactive_director],
    ids=["staff", "former-director", "inactive-director"],
)


@NOT_DIRECTORS
def test_only_sitting_directors_can_vote(ballot, make_person):
    person = make_person()

    with pytest.raises(PermissionDenied):
        vote(ballot, person, Choice.FOR)

    assert not ballot.votes.exists()


@pytest.mark.parametrize(
    "make_person", [staff_member, former_director], ids=["staff", "former-director"]
)
def test_vote_page_answers_403_to_staff_who_are_not_sitting_directors(client, ballot, make_person):
    person = with_totp(make_person())
    client.force_login(person)

    response = client.post(vote_url(ballot), {"choice": Choice.FOR})

    assert response.status_code == 403
    assert not ballot.votes.exists()


def test_an_inactive_director_cannot_reach_the_vote_page_at_all(client, ballot):
    # Django does not authenticate an inactive account: the admin sends them to sign in.
    person = with_totp(inactive_director())
    client.force_login(person)

    response = client.post(vote_url(ballot), {"choice": Choice.FOR})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not ballot.votes.exists()


# --- one vote per director ----------------------------------------------------------------------


def test_a_directors_second_vote_replaces_the_first_until_the_decision(board, ballot):
    director = board.others[0]

    vote(ballot, director, Choice.FOR)
    vote(ballot, director, Choice.AGAINST, "Their work is outside crime prevention.")

    (only,) = Vote.objects.filter(ballot=ballot)
    assert (only.director, only.choice, only.comment) == (
        director,
        Choice.AGAINST,
        "Their work is outside crime prevention.",
    )
    assert services.tally_of(ballot).tally.against == 1
    assert services.tally_of(ballot).tally.for_ == 0


def test_a_vote_on_a_withdrawn_application_says_it_was_cancelled(board, application, ballot):
    from applications import services as applications

    applications.withdraw_application(application=application, by=application.applicant)

    with pytest.raises(ValidationError, match="This vote was cancelled: The applicant withdrew"):
        vote(ballot, board.directors[0], Choice.FOR)
    assert not ballot.votes.exists()


def test_votes_are_refused_once_the_board_has_decided(board, ballot):
    for director in board.directors[:4]:
        vote(ballot, director, Choice.FOR)
    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.DECIDED

    with pytest.raises(ValidationError, match="This vote is closed"):
        vote(ballot, board.directors[4], Choice.AGAINST)
    with pytest.raises(ValidationError, match="This vote is closed"):
        vote(ballot, board.directors[0], Choice.AGAINST, "Changed my mind.")

    assert ballot.votes.count() == 4
    assert not ballot.votes.filter(choice=Choice.AGAINST).exists()


def test_the_database_refuses_a_second_vote_row_for_the_same_director(board, ballot):
    director = board.others[0]
    vote(ballot, director, Choice.FOR)

    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(ballot=ballot, director=director, choice=Choice.AGAINST)

    assert ballot.votes.filter(director=director).count() == 1


# --- recusal ------------------------------------------------------------------------------------


@pytest.mark.parametrize("comment", ["", "   "])
def test_recusing_without_declaring_the_conflict_is_refused(board, ballot, comment):
    with pytest.raises(ValidationError) as refused:
        vote(ballot, board.others[0], Choice.RECUSED, comment)

    assert refused.value.message_dict == {"comment": ["Say what the conflict of interest is."]}
    assert not ballot.votes.exists()


def test_recusing_without_declaring_the_conflict_is_refused_next_to_the_comment(
    client, board, ballot
):
    director = with_totp(board.others[0])
    client.force_login(director)

    response = client.post(vote_url(ballot), {"choice": Choice.RECUSED, "comment": ""})

    assert response.status_code == 400
    html = response.content.decode()
    comment_row = html[html.index('id="vote-comment"') :]
    comment_row = comment_row[: comment_row.index("</div></div>")]
    assert "Say what the conflict of interest is." in comment_row
    assert re.search(r'<input[^>]*value="recused"[^>]*checked', html)  # the choice is kept
    assert not ballot.votes.exists()


def test_recusing_with_the_conflict_declared_is_recorded(board, ballot):
    vote(ballot, board.others[0], Choice.RECUSED, "I sit on the applicant's board.")

    view = services.tally_of(ballot)
    assert view.tally.recused == 1
    assert view.tally.eligible == 6


def test_the_database_refuses_a_recusal_without_a_declared_conflict(board, ballot):
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(ballot=ballot, director=board.others[0], choice=Choice.RECUSED)


# --- the deadline -------------------------------------------------------------------------------


def test_votes_after_the_deadline_are_refused(board, ballot):
    past_deadline(ballot)

    with pytest.raises(ValidationError, match="The deadline has passed"):
        vote(ballot, board.others[0], Choice.FOR)

    assert not ballot.votes.exists()


def test_votes_after_the_deadline_are_refused_on_the_page(client, board, ballot):
    vote(ballot, board.others[0], Choice.FOR)
    past_deadline(ballot)
    client.force_login(with_totp(board.others[0]))

    response = client.post(vote_url(ballot), {"choice": Choice.AGAINST}, follow=True)

    assert any("The deadline has passed" in m for m in page_messages(response))
    assert ballot.votes.get().choice == Choice.FOR


# --- the decision as soon as it is certain ------------------------------------------------------


def test_the_decision_is_taken_as_soon_as_the_outcome_is_certain(board, ballot, application):
    for director in board.directors[:3]:
        vote(ballot, director, Choice.FOR)
    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.OPEN  # 3 of 7: the others could still reject it

    vote(ballot, board.directors[3], Choice.FOR)

    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.DECIDED
    assert ballot.outcome == Outcome.APPROVED
    assert ballot.decided_at is not None
    assert ballot.closed_by is None  # nobody closed it: the votes decided
    assert ballot.tally == {
        "for": 4,
        "against": 0,
        "abstain": 0,
        "recused": 0,
        "not_voted": 3,
        "president": Choice.FOR,
        "quorum_needed": 4,
    }
    assert ballot.tally_summary == "4 for, 0 against, 0 abstaining, 0 recused, 3 not voted"
    assert ballot.decision_reason == ""  # no one wrote a reason: none is made up from the votes
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert not ballot.votes.filter(director__in=board.directors[4:]).exists()


def test_rejection_is_taken_as_soon_as_four_of_seven_are_against(board, ballot, application):
    for director in board.others[:4]:
        vote(ballot, director, Choice.AGAINST, "Not in our field.")

    ballot.refresh_from_db()
    assert (ballot.status, ballot.outcome) == (BallotStatus.DECIDED, Outcome.REJECTED)
    application.refresh_from_db()
    assert application.status == Status.REJECTED


def test_the_page_says_when_a_vote_made_the_decision(client, board, ballot):
    for director in board.directors[:3]:
        vote(ballot, director, Choice.FOR)
    client.force_login(with_totp(board.directors[3]))

    response = client.post(vote_url(ballot), {"choice": Choice.FOR}, follow=True)

    assert page_messages(response) == [
        "Your vote is recorded. The outcome is now certain: the Board has decided (Approved)."
    ]


# --- the President closes at the deadline -------------------------------------------------------


def test_only_the_president_closes_a_vote(board, ballot):
    past_deadline(ballot)

    with pytest.raises(PermissionDenied):
        services.close_ballot(ballot=ballot, by=board.others[0])

    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.OPEN


def test_a_director_who_is_not_president_gets_403_from_the_close_page(client, board, ballot):
    past_deadline(ballot)
    client.force_login(with_totp(board.others[0]))

    response = client.post(close_url(ballot), {"reason": ""})

    assert response.status_code == 403
    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.OPEN


def test_the_president_cannot_close_before_the_deadline(board, ballot):
    with pytest.raises(ValidationError, match="once its deadline has passed"):
        services.close_ballot(ballot=ballot, by=board.president)

    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.OPEN


def test_the_president_closes_after_the_deadline_with_the_votes_cast(board, ballot, application):
    vote(ballot, board.others[0], Choice.FOR)
    vote(ballot, board.others[1], Choice.FOR)
    vote(ballot, board.others[2], Choice.FOR)
    vote(ballot, board.others[3], Choice.AGAINST, "Too recent an organisation.")
    past_deadline(ballot)

    services.close_ballot(ballot=ballot, by=board.president)

    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.DECIDED
    assert ballot.outcome == Outcome.APPROVED  # 3 for, 1 against; quorum 4 of 7
    assert ballot.closed_by == board.president
    assert ballot.tally["not_voted"] == 3
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert Organisation.objects.filter(pk=application.organisation_id).exists()


def test_the_president_closes_through_the_page(client, board, ballot):
    for director in board.others[:4]:
        vote(ballot, director, Choice.ABSTAIN)
    past_deadline(ballot)
    client.force_login(with_totp(board.president))

    response = client.post(close_url(ballot), {"reason": "Nobody was for it."}, follow=True)

    assert page_messages(response) == ["The vote is closed."]
    ballot.refresh_from_db()
    assert (ballot.outcome, ballot.closed_by) == (Outcome.REJECTED, board.president)
    assert ballot.decision_reason == "Nobody was for it."


def test_without_quorum_the_application_returns_to_the_staff_queue(board, ballot, application):
    vote(ballot, board.others[0], Choice.FOR)
    vote(ballot, board.others[1], Choice.FOR)
    vote(ballot, board.others[2], Choice.AGAINST, "Not enough detail.")
    past_deadline(ballot)

    services.close_ballot(ballot=ballot, by=board.president)

    ballot.refresh_from_db()
    assert (ballot.status, ballot.outcome) == (BallotStatus.DECIDED, Outcome.NO_QUORUM)
    assert ballot.tally["quorum_needed"] == 4
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert application.organisation is None
    last = ApplicationEvent.objects.filter(application=application).last()
    assert (last.from_status, last.to_status, last.actor) == (
        Status.WITH_BOARD,
        Status.SUBMITTED,
        board.president,
    )
    assert not Organisation.objects.exists()


def test_a_closed_vote_cannot_be_closed_again(board, ballot):
    past_deadline(ballot)
    services.close_ballot(ballot=ballot, by=board.president)

    with pytest.raises(ValidationError, match="already closed"):
        services.close_ballot(ballot=ballot, by=board.president)


def test_a_vote_closed_without_quorum_tells_each_staff_member(
    board, ballot, application, staff, mailoutbox
):
    vote(ballot, board.others[0], Choice.FOR)
    past_deadline(ballot)
    mailoutbox.clear()

    services.close_ballot(ballot=ballot, by=board.president)

    (message,) = [m for m in mailoutbox if m.to == [staff.email]]
    assert application.reference in message.subject
    assert "without quorum" in message.subject
    assert f"/admin/applications/application/{application.pk}/change/" in message.body


def test_a_vote_gives_the_directors_at_least_an_hour(board, applicant, staff):
    from applications import services as applications
    from tests.applications.conftest import complete_draft

    submitted = applications.submit_application(application=complete_draft(applicant), by=applicant)

    with pytest.raises(ValidationError, match="at least an hour"):
        applications.send_to_board(
            application=submitted,
            by=staff,
            deadline=timezone.now() + datetime.timedelta(minutes=30),
        )
