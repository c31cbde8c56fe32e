"""The Board as an engine: motions registered by their apps, one open vote per subject, and a
carried motion that checks again instead of failing."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications.models import Status
from board import motions
from board.models import Ballot, BallotStatus, Choice, Outcome
from members import services as members
from members.models import MembershipKind, MembershipStatus
from tests import factories
from tests.board.conftest import application_with_board, in_days, vote, with_totp

pytestmark = pytest.mark.django_db


def approve(ballot, board) -> Ballot:
    for director in board.directors[:4]:
        vote(ballot, director, Choice.FOR)
    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.DECIDED
    return ballot


def test_each_app_registers_its_own_motions():
    kinds = {motion.kind: motion.subject_model._meta.label for motion in motions.all_kinds()}
    assert kinds == {
        "application": "applications.Application",
        "honorary": "members.Organisation",
        "honorary_person": "accounts.User",
        "dismissal": "members.Organisation",
    }


def test_an_unknown_kind_of_motion_is_refused(board, rule, staff):
    with pytest.raises(LookupError):
        motions.get("change_of_statutes")


def test_a_motion_is_about_the_kind_of_thing_its_app_registered(board, rule, staff):
    from board import services

    with pytest.raises(TypeError):
        services.open_ballot(
            kind="application",
            subject=factories.OrganisationFactory(),
            details="",
            deadline=in_days(7),
            by=staff,
        )


def test_second_open_vote_on_the_same_organisation_is_refused(board, rule, staff):
    organisation = factories.OrganisationFactory()
    members.propose_honorary_membership(
        organisation=organisation, details="", deadline=in_days(7), by=staff
    )

    with pytest.raises(ValidationError, match="A vote on this is already open"):
        members.propose_honorary_membership(
            organisation=organisation, details="", deadline=in_days(9), by=staff
        )
    assert Ballot.objects.about(organisation).count() == 1


def test_the_database_keeps_one_open_vote_per_subject(board, rule, staff):
    from django.db import IntegrityError, transaction

    ballot = members.propose_honorary_membership(
        organisation=factories.OrganisationFactory(), details="", deadline=in_days(7), by=staff
    )
    copy = Ballot.objects.get(pk=ballot.pk)
    copy.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_honorary_vote_carried_after_the_organisation_became_a_member_is_still_decided(
    board, rule, staff
):
    """The Board's decision is recorded even when its effect no longer applies: the motion
    checks again rather than failing on the one-membership constraint."""
    organisation = factories.OrganisationFactory(name="Forum de Montréal")
    ballot = members.propose_honorary_membership(
        organisation=organisation, details="", deadline=in_days(7), by=staff
    )
    members.start_membership(
        organisation=organisation,
        kind=MembershipKind.GENERAL,
        on=in_days(0).date(),
        by=staff,
        reason="Admitted meanwhile",
    )

    ballot = approve(ballot, board)

    assert ballot.outcome == Outcome.APPROVED
    assert "had become a member" in ballot.effect_note
    (membership,) = organisation.memberships.all()
    assert membership.kind == MembershipKind.GENERAL


def test_dismissal_carried_after_the_member_resigned_is_still_decided(board, rule, staff):
    membership = factories.MembershipFactory()
    organisation = membership.organisation
    ballot = members.propose_dismissal(
        organisation=organisation,
        cause="Used the Centre's name for a campaign.",
        deadline=in_days(7),
        by=staff,
    )
    members.end_membership(
        membership=membership, reason="resigned", note="", on=in_days(0).date(), by=None
    )

    ballot = approve(ballot, board)

    assert ballot.outcome == Outcome.APPROVED
    assert "no longer a member" in ballot.effect_note
    membership.refresh_from_db()
    assert (membership.status, membership.end_reason) == (MembershipStatus.ENDED, "resigned")


def test_application_approved_while_a_member_of_that_name_exists_goes_back_to_staff(
    board, rule, staff, applicant, mailoutbox
):
    application, ballot = application_with_board(applicant=applicant, staff=staff)
    existing = factories.MembershipFactory(
        organisation__name=application.org_name.upper(), organisation__country="FR"
    ).organisation
    mailoutbox.clear()

    ballot = approve(ballot, board)

    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert application.organisation is None
    assert "not carried out" in ballot.effect_note
    assert existing.name in ballot.effect_note
    (to_staff,) = [m for m in mailoutbox if staff.email in m.to]
    assert "could not be admitted" in to_staff.subject
    assert not [m for m in mailoutbox if applicant.email in m.to]


def test_the_vote_screen_shows_the_motions_own_details(client, board, rule, staff):
    organisation = factories.MembershipFactory(
        organisation__name="Observatoire de la paix"
    ).organisation
    ballot = members.propose_dismissal(
        organisation=organisation,
        cause="Repeated breaches of the statutes.",
        deadline=in_days(7),
        by=staff,
    )
    director = with_totp(board.president)
    client.force_login(director)

    page = client.get(reverse("admin:board_ballot_change", args=[ballot.pk])).content.decode()

    assert "The member the Board is asked to dismiss" in page
    assert "Observatoire de la paix" in page
    assert "Repeated breaches of the statutes." in page
    assert "What the applicant sent" not in page


def test_the_vote_screen_of_an_application_shows_what_the_applicant_sent(
    client, board, rule, staff, applicant
):
    application, ballot = application_with_board(applicant=applicant, staff=staff)
    client.force_login(with_totp(board.president))

    page = client.get(reverse("admin:board_ballot_change", args=[ballot.pk])).content.decode()

    assert f"What the applicant sent ({application.reference})" in page
    assert "Letter to the President.pdf" in page
