"""The Board appoints a person an honorary member; a dismissal is due process: the member is
told when it is put to the Board and the directors read the member's written answer."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.services import invite_person
from board import services as ballots
from board.models import BallotStatus, Choice
from members import services as members
from members.models import (
    DismissalResponse,
    Membership,
    MembershipEventKind,
    MembershipKind,
    MembershipStatus,
)
from tests import factories
from tests.board.conftest import vote
from tests.factories import with_totp


def in_days(days: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def approve(ballot, board_) -> None:
    for director in board_.directors[:4]:
        vote(ballot, director, Choice.FOR)
    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.DECIDED


@pytest.fixture
def member(db):
    today = timezone.localdate()
    membership = factories.MembershipFactory(
        started_on=datetime.date(2020, 3, 1),
        period_start=today - datetime.timedelta(days=30),
        period_end=today + datetime.timedelta(days=334),
    )
    factories.RepresentativeFactory(organisation=membership.organisation)
    return membership


# --- an honorary member in their own name --------------------------------------------------------


def test_the_board_appoints_a_person_an_honorary_member_and_they_are_invited(
    board, rule, staff, mailoutbox
):
    person, _link = invite_person(
        email="ines.duarte@example.org", first_name="Inês", last_name="Duarte", language="fr"
    )
    ballot = members.propose_honorary_person(
        person=person,
        details="Forty years of community policing research.",
        deadline=in_days(10),
        by=staff,
    )
    mailoutbox.clear()

    approve(ballot, board)

    membership = Membership.objects.get(person=person)
    assert membership.organisation is None
    assert (membership.kind, membership.status) == (
        MembershipKind.HONORARY,
        MembershipStatus.ACTIVE,
    )
    assert membership.holder_name == "Inês Duarte"
    assert not membership.has_vote_at_agm
    assert membership.renews_on is None  # an honorary membership needs no renewal
    (message,) = [m for m in mailoutbox if m.to == [person.email]]
    assert message.sensitive  # the link signs the person in: kept from the staff's eyes
    assert "membre d’honneur" in message.subject or "membre d'honneur" in message.subject
    # A person the Centre made an account for gets the link to choose a password.
    (link,) = [u for u in re.findall(r"https?://\S+", message.body) if "/password/reset/key/" in u]
    assert reverse("members:membership") in message.body
    ballot.refresh_from_db()
    assert ballot.effect_note == "Inês Duarte is an honorary member."
    assert link


def test_a_person_already_an_honorary_member_cannot_be_proposed_again(board, rule, staff):
    person = factories.UserFactory()
    Membership.objects.create(
        person=person,
        kind=MembershipKind.HONORARY,
        started_on=timezone.localdate(),
        period_start=timezone.localdate(),
        period_end=timezone.localdate() + datetime.timedelta(days=364),
    )

    with pytest.raises(ValidationError, match="already an honorary member"):
        members.propose_honorary_person(
            person=person, details="Again.", deadline=in_days(10), by=staff
        )


def test_a_person_cannot_hold_a_general_membership(db):
    person = factories.UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            person=person,
            kind=MembershipKind.GENERAL,
            started_on=timezone.localdate(),
            period_start=timezone.localdate(),
            period_end=timezone.localdate() + datetime.timedelta(days=364),
        )


def test_the_directors_see_who_the_person_is_on_the_vote_page(client, board, rule, staff):
    person = factories.UserFactory(first_name="Inês", last_name="Duarte")
    ballot = members.propose_honorary_person(
        person=person, details="Forty years of research.", deadline=in_days(10), by=staff
    )
    client.force_login(with_totp(board.others[0]))

    page = client.get(reverse("admin:board_ballot_change", args=[ballot.pk])).content.decode()

    assert "The person proposed as an honorary member" in page
    assert person.email in page
    assert "Forty years of research." in page


# --- dismissal: due process ----------------------------------------------------------------------


CAUSE = "Used the Centre's name to promote a surveillance product."


def test_the_member_is_told_when_a_dismissal_is_put_to_the_board(
    board, rule, staff, member, mailoutbox
):
    representative = member.organisation.representatives.get()

    ballot = members.propose_dismissal(
        organisation=member.organisation, cause=CAUSE, deadline=in_days(10), by=staff
    )

    (message,) = [m for m in mailoutbox if m.to == [representative.user.email]]
    assert member.organisation.name in message.subject
    assert CAUSE in message.body
    assert reverse("members:membership") in message.body
    (event,) = member.events.all()
    assert (event.kind, event.by, event.note) == (
        MembershipEventKind.DISMISSAL_PROPOSED,
        staff,
        CAUSE,
    )
    assert ballot.is_open


def test_the_directors_read_the_members_written_response_on_the_vote_page(
    client, board, rule, staff, member
):
    representative = member.organisation.representatives.get()
    ballot = members.propose_dismissal(
        organisation=member.organisation, cause=CAUSE, deadline=in_days(10), by=staff
    )
    members.respond_to_dismissal(
        ballot=ballot,
        organisation=member.organisation,
        by=representative.user,
        text="The product was a pilot with the city; we withdrew it in May.",
    )
    client.force_login(with_totp(board.others[0]))

    page = client.get(reverse("admin:board_ballot_change", args=[ballot.pk])).content.decode()

    assert "The member's written response" in page
    assert "we withdrew it in May." in page


def test_only_the_representative_answers_and_only_while_the_vote_is_open(
    board, rule, staff, member
):
    representative = member.organisation.representatives.get()
    ballot = members.propose_dismissal(
        organisation=member.organisation, cause=CAUSE, deadline=in_days(10), by=staff
    )
    stranger = factories.UserFactory()

    with pytest.raises(PermissionDenied):
        members.respond_to_dismissal(
            ballot=ballot, organisation=member.organisation, by=stranger, text="Not me."
        )
    for director in board.directors[:4]:
        vote(ballot, director, Choice.AGAINST)  # the Board keeps the member: the vote closes

    with pytest.raises(ValidationError, match="too late"):
        members.respond_to_dismissal(
            ballot=ballot, organisation=member.organisation, by=representative.user, text="Late."
        )
    assert not DismissalResponse.objects.exists()
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE


def test_a_response_names_the_vote_about_this_organisation(board, rule, staff, member):
    other = factories.MembershipFactory()
    other_rep = factories.RepresentativeFactory(organisation=other.organisation)
    ballot = members.propose_dismissal(
        organisation=member.organisation, cause=CAUSE, deadline=in_days(10), by=staff
    )

    with pytest.raises(PermissionDenied):
        members.respond_to_dismissal(
            ballot=ballot, organisation=other.organisation, by=other_rep.user, text="Hijack."
        )


def test_an_overdue_dismissal_vote_closes_itself_and_tells_the_member(
    board, rule, staff, member, mailoutbox
):
    representative = member.organisation.representatives.get()
    ballot = members.propose_dismissal(
        organisation=member.organisation, cause=CAUSE, deadline=in_days(10), by=staff
    )
    for director in board.directors[:3]:
        vote(ballot, director, Choice.FOR)
    vote(ballot, board.directors[3], Choice.AGAINST)
    type(ballot).objects.filter(pk=ballot.pk).update(deadline=timezone.now())
    mailoutbox.clear()

    assert ballots.close_overdue_ballots() == 1

    member.refresh_from_db()
    assert member.status == MembershipStatus.ENDED
    (message,) = [m for m in mailoutbox if m.to == [representative.user.email]]
    assert CAUSE in message.body


def test_a_response_after_the_deadline_is_refused_no_director_would_read_it(
    board, rule, staff, member
):
    representative = member.organisation.representatives.get()
    ballot = members.propose_dismissal(
        organisation=member.organisation, cause=CAUSE, deadline=in_days(10), by=staff
    )
    type(ballot).objects.filter(pk=ballot.pk).update(deadline=timezone.now())

    with pytest.raises(ValidationError, match="too late"):
        members.respond_to_dismissal(
            ballot=ballot, organisation=member.organisation, by=representative.user, text="Late."
        )


@pytest.mark.parametrize(
    ("choice", "words"), [(Choice.AGAINST, "decided not to dismiss"), (None, "without a decision")]
)
def test_a_member_the_board_does_not_dismiss_is_told_and_its_history_says_so(
    board, rule, staff, member, mailoutbox, choice, words
):
    representative = member.organisation.representatives.get()
    ballot = members.propose_dismissal(
        organisation=member.organisation, cause=CAUSE, deadline=in_days(10), by=staff
    )
    if choice is not None:
        for director in board.directors[:4]:
            vote(ballot, director, choice)
    else:  # one vote of seven: no quorum when the deadline passes
        vote(ballot, board.directors[0], Choice.FOR)
        type(ballot).objects.filter(pk=ballot.pk).update(deadline=timezone.now())
        ballots.close_overdue_ballots()

    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE
    told = [
        m for m in mailoutbox if m.to == [representative.user.email] and "did not end" in m.subject
    ]
    assert len(told) == 1 and words in told[0].body
    assert member.events.filter(kind=MembershipEventKind.DISMISSAL_NOT_CARRIED).count() == 1
