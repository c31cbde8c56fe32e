"""What the Board's decision does: the new member, its representative, the emails; honorary
appointments and dismissals."""

import datetime
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

import applications.services
from accounts.models import User
from applications.models import Status
from board import services
from board.models import BallotStatus, Choice, Outcome
from members import services as members
from members.models import (
    EndReason,
    Membership,
    MembershipKind,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    Representative,
    yearly_period,
)
from tests import factories
from tests.board.conftest import (
    APPLICATION_FIELDS,
    application_with_board,
    in_days,
    past_deadline,
    vote,
)

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
REP_EMAIL = APPLICATION_FIELDS["rep_email"]
NEW_PASSWORD = "a-fresh-password-for-the-representative"


def approve(ballot, board) -> None:
    """Four of the seven directors vote for: the outcome is certain and the Board decides."""
    for director in board.directors[:4]:
        vote(ballot, director, Choice.FOR)
    ballot.refresh_from_db()
    assert ballot.outcome == Outcome.APPROVED


AGAINST_COMMENTS = [
    "The statutes require work in crime prevention; this is mostly policing.",
    "",
    "Apply again with a support letter from the city.",
    "No evidence of community work.",
]


def reject(ballot, board, comments: list[str]) -> None:
    for director, comment in zip(board.others, comments, strict=False):
        vote(ballot, director, Choice.AGAINST, comment)
    ballot.refresh_from_db()
    assert ballot.outcome == Outcome.REJECTED


def sent_to(outbox, address: str) -> list:
    return [message for message in outbox if address in message.to]


def path_of_link(body: str, fragment: str) -> str:
    (url,) = [u for u in re.findall(r"https?://\S+", body) if fragment in u]
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def queued_email(outbox):
    """Production's mail path (the outbox, sent after the commit), from a clean slate."""
    outbox.clear()
    return outbox


# --- approval -----------------------------------------------------------------------------------


def test_approval_makes_the_organisation_a_general_member_from_today(board, ballot, application):
    approve(ballot, board)

    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert application.decided_at is not None
    assert application.decision_reason == ballot.decision_reason
    organisation = application.organisation
    assert (
        organisation.name,
        organisation.category,
        organisation.country.code,
        organisation.city,
        organisation.website,
        organisation.description,
    ) == (
        APPLICATION_FIELDS["org_name"],
        APPLICATION_FIELDS["category"],
        APPLICATION_FIELDS["country"],
        APPLICATION_FIELDS["city"],
        APPLICATION_FIELDS["website"],
        APPLICATION_FIELDS["activities"],
    )
    today = timezone.localdate()
    (membership,) = Membership.objects.filter(organisation=organisation)
    assert membership.kind == MembershipKind.GENERAL
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.started_on == today
    assert (membership.period_start, membership.period_end) == yearly_period(today)
    (change,) = membership.status_changes.all()
    assert (change.from_status, change.to_status) == ("", MembershipStatus.ACTIVE)
    assert change.note == f"Application {application.reference} approved by the Board"
    (representative,) = Representative.objects.filter(organisation=organisation)
    assert representative.user.email == REP_EMAIL
    assert representative.title == APPLICATION_FIELDS["rep_title"]
    assert representative.qualification == APPLICATION_FIELDS["rep_qualification"]
    assert representative.started_on == today
    # Someone other than the applicant acts for the organisation once they accept.
    assert representative.awaits_acceptance


def test_an_approval_that_fails_half_way_is_undone_whole_and_the_decision_stays(
    board, ballot, application, staff, monkeypatch, queued_email, django_capture_on_commit_callbacks
):
    for director in board.directors[:3]:
        vote(ballot, director, Choice.FOR)
    users_before = User.objects.count()

    def link_fails(path):
        raise RuntimeError("cannot build the welcome email's link")

    # The last step of the approval fails: everything it did is undone, not the Board's vote.
    monkeypatch.setattr(applications.services, "absolute_url", link_fails)
    with django_capture_on_commit_callbacks(execute=True):
        vote(ballot, board.directors[3], Choice.FOR)

    ballot.refresh_from_db()
    assert (ballot.status, ballot.outcome) == (BallotStatus.DECIDED, Outcome.APPROVED)
    assert ballot.votes.count() == 4
    assert ballot.effect_note == (
        "The decision could not be carried out: cannot build the welcome email's link"
    )
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED  # back with the staff, who can act on it
    assert application.organisation is None
    assert not Organisation.objects.exists()
    assert not Membership.objects.exists()
    assert not MembershipStatusChange.objects.exists()
    assert not Representative.objects.exists()
    assert User.objects.count() == users_before
    # The applicant's welcome, already written, never leaves; the staff hear of it.
    assert sent_to(queued_email, application.applicant.email) == []
    (to_staff,) = sent_to(queued_email, staff.email)
    assert to_staff.subject.startswith("[ICPC] The Board's decision could not be carried out")
    assert "cannot build the welcome email's link" in to_staff.body


def test_representative_with_an_account_is_linked_to_it_whatever_the_case_of_the_address(
    board, rule, applicant, staff, mailoutbox
):
    existing = factories.UserFactory(email="camille.rousseau@oltp.example.org")
    application, ballot = application_with_board(
        applicant=applicant, staff=staff, rep_email="Camille.Rousseau@OLTP.example.org"
    )
    users_before = User.objects.count()
    mailoutbox.clear()

    approve(ballot, board)

    assert User.objects.count() == users_before
    application.refresh_from_db()
    representative = Representative.objects.get(organisation=application.organisation)
    assert representative.user == existing
    (welcome,) = sent_to(mailoutbox, existing.email)
    assert "set-password" not in welcome.body
    assert "password/reset" not in welcome.body
    assert path_of_link(welcome.body, "/accounts/profile/") == "/accounts/profile/"


def test_new_representative_gets_an_account_without_a_password_and_a_verified_address(
    board, ballot, application
):
    assert not User.objects.filter(email__iexact=REP_EMAIL).exists()

    approve(ballot, board)

    person = User.objects.get(email=REP_EMAIL)
    assert not person.has_usable_password()
    assert (person.first_name, person.last_name) == ("Camille", "Rousseau")
    assert person.language == application.applicant.language
    (address,) = EmailAddress.objects.filter(user=person)
    assert (address.email, address.verified, address.primary) == (REP_EMAIL, True, True)
    assert not person.is_staff


def test_applicant_and_representative_each_get_their_own_welcome(
    board, ballot, application, applicant, mailoutbox
):
    mailoutbox.clear()

    approve(ballot, board)

    organisation = Organisation.objects.get()
    (to_applicant,) = sent_to(mailoutbox, applicant.email)
    (to_representative,) = sent_to(mailoutbox, REP_EMAIL)
    assert len(mailoutbox) == 2
    assert to_applicant.to == [applicant.email]
    assert to_applicant.subject == (
        f"[ICPC] Welcome to the Centre: {organisation.name} is now a member"
    )
    assert application.reference in to_applicant.body
    assert "is now a general member" in to_applicant.body
    assert "Camille Rousseau represents the organisation" in to_applicant.body
    assert to_representative.to == [REP_EMAIL]
    assert to_representative.subject == (
        f"[ICPC] {organisation.name} asks you to be its representative at the Centre"
    )
    assert "Hello Camille Rousseau," in to_representative.body
    assert "designated you (Executive Director) as its representative" in to_representative.body
    assert "Choose your password here" in to_representative.body


def test_applicant_who_is_the_representative_gets_one_welcome(
    board, rule, applicant, staff, mailoutbox
):
    application, ballot = application_with_board(
        applicant=applicant, staff=staff, rep_email=applicant.email.upper()
    )
    mailoutbox.clear()

    approve(ballot, board)

    assert Representative.objects.get().user == applicant
    assert [m.to for m in mailoutbox] == [[applicant.email]]


def test_the_invitation_link_lets_the_representative_choose_a_password_and_sign_in(
    client, board, ballot, mailoutbox
):
    mailoutbox.clear()
    approve(ballot, board)
    (invitation,) = sent_to(mailoutbox, REP_EMAIL)
    link = path_of_link(invitation.body, "/accounts/password/reset/key/")

    response = client.get(link)
    assert response.status_code == 302
    set_password_url = response["Location"]
    assert set_password_url.endswith("-set-password/")
    page = client.get(set_password_url)
    assert page.status_code == 200
    assert "token_fail" not in page.context or not page.context["token_fail"]
    response = client.post(set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    # Choosing the password signs the representative in (ACCOUNT_LOGIN_ON_PASSWORD_RESET).
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")

    person = User.objects.get(email=REP_EMAIL)
    assert client.session[SESSION_KEY] == str(person.pk)
    assert person.check_password(NEW_PASSWORD)
    client.logout()
    response = client.post(reverse("account_login"), {"login": REP_EMAIL, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    assert client.session[SESSION_KEY] == str(person.pk)
    # The link works once.
    client.logout()
    assert client.get(link).context["token_fail"] is True


def test_representative_sees_the_organisation_and_its_membership_on_their_account(
    client, board, ballot
):
    approve(ballot, board)
    person = User.objects.get(email=REP_EMAIL)
    membership = Membership.objects.get()
    client.force_login(person)

    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 200
    page = " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    assert APPLICATION_FIELDS["org_name"] in page
    assert "Executive Director · Holds a directorial position" in page
    assert "General member" in page
    since, until = date_format(membership.started_on), date_format(membership.period_end)
    assert f"Member since {since}; the current year runs until {until}." in page
    assert "You do not represent a member organisation." not in page


# --- rejection ----------------------------------------------------------------------------------


def test_rejection_tells_the_applicant_the_decision_but_not_the_votes_or_comments(
    board, ballot, application, applicant, mailoutbox
):
    vote(ballot, board.president, Choice.FOR, "A strong network in Lyon.")
    mailoutbox.clear()

    reject(ballot, board, AGAINST_COMMENTS)

    application.refresh_from_db()
    assert application.status == Status.REJECTED
    assert application.organisation is None
    assert not Organisation.objects.exists()
    (message,) = sent_to(mailoutbox, applicant.email)
    assert message.to == [applicant.email]
    assert message.subject == f"[ICPC] Application {application.reference}: the Board's decision"
    assert "has not approved it" in message.body
    assert "The Centre's staff will write to you with the Board's reason." in message.body
    for confidential in [*AGAINST_COMMENTS[::2], "A strong network in Lyon.", "4 against"]:
        assert confidential not in message.body
    assert application.decision_reason == ballot.decision_reason == ""
    assert ballot.tally["against"] == 4  # the Board and the staff keep the count


def test_the_presidents_reason_and_names_reach_the_applicant_as_written(
    board, rule, applicant, staff, mailoutbox
):
    application, ballot = application_with_board(
        applicant=applicant, staff=staff, org_name="Ville & Communauté d'Agglomération"
    )
    vote(ballot, board.others[0], Choice.AGAINST, "Not for the applicant's eyes.")
    vote(ballot, board.others[1], Choice.AGAINST)
    vote(ballot, board.others[2], Choice.AGAINST)
    vote(ballot, board.others[3], Choice.ABSTAIN)
    past_deadline(ballot)
    mailoutbox.clear()

    services.close_ballot(
        ballot=ballot, by=board.president, reason="The city's letter is missing & <b>needed</b>."
    )

    (message,) = mailoutbox
    assert "from Ville & Communauté d'Agglomération and has not approved it" in message.body
    assert "The Board's reason:\n\nThe city's letter is missing & <b>needed</b>." in message.body
    assert "Not for the applicant's eyes." not in message.body
    assert "&#x27;" not in message.body
    assert "&amp;" not in message.body


def test_rejection_by_the_president_at_the_deadline_gives_the_presidents_reason(
    board, ballot, application, applicant, mailoutbox
):
    vote(ballot, board.others[0], Choice.AGAINST, "Not convinced.")
    vote(ballot, board.others[1], Choice.AGAINST, "Neither am I.")
    vote(ballot, board.others[2], Choice.FOR)
    vote(ballot, board.others[3], Choice.ABSTAIN)
    past_deadline(ballot)
    mailoutbox.clear()

    services.close_ballot(
        ballot=ballot, by=board.president, reason="The Board asks for a letter from the city."
    )

    (message,) = mailoutbox
    assert message.to == [applicant.email]
    assert "The Board asks for a letter from the city." in message.body


# --- emails leave after the commit --------------------------------------------------------------


def test_approval_emails_leave_only_once_the_decision_is_committed(
    board, ballot, applicant, queued_email, django_capture_on_commit_callbacks
):
    for director in board.directors[:3]:
        vote(ballot, director, Choice.FOR)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        vote(ballot, board.directors[3], Choice.FOR)
        assert queued_email == []  # nothing leaves before the commit

    assert len([c for c in callbacks if c.__name__ == "deliver_email_after_commit"]) == 2
    assert sorted(m.to[0] for m in queued_email) == sorted([applicant.email, REP_EMAIL])


def test_rejection_email_leaves_only_once_the_decision_is_committed(
    board, ballot, applicant, staff, queued_email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reject(ballot, board, ["No.", "No.", "No.", "No."])
        assert queued_email == []

    assert len(callbacks) == 2  # the applicant, and the staff asked to write the reason
    assert sorted(m.to[0] for m in queued_email) == sorted([applicant.email, staff.email])
    (to_applicant,) = sent_to(queued_email, applicant.email)
    assert "No." not in to_applicant.body


# --- honorary appointments and dismissals -------------------------------------------------------


def open_vote(kind, organisation, staff, title, motion):
    """``title`` is what staff would call it; the vote's question comes from the motion."""
    if kind == members.HONORARY:
        return members.propose_honorary_membership(
            organisation=organisation, details=motion, deadline=in_days(10), by=staff
        )
    return members.propose_dismissal(
        organisation=organisation, cause=motion, deadline=in_days(10), by=staff
    )


def test_honorary_appointment_approved_starts_an_honorary_membership(board, rule, staff):
    organisation = factories.OrganisationFactory(name="Fondation pour la paix urbaine")
    ballot = open_vote(
        members.HONORARY,
        organisation,
        staff,
        "Appoint the Fondation pour la paix urbaine an honorary member",
        "Thirty years of work on urban violence.",
    )

    approve(ballot, board)

    (membership,) = organisation.memberships.all()
    today = timezone.localdate()
    assert membership.kind == MembershipKind.HONORARY
    assert membership.status == MembershipStatus.ACTIVE
    assert (membership.started_on, membership.period_start, membership.period_end) == (
        today,
        *yearly_period(today),
    )
    assert not membership.has_vote_at_agm
    (change,) = membership.status_changes.all()
    assert change.note == "Appointed an honorary member by the Board."
    ballot.refresh_from_db()
    assert ballot.effect_note.startswith("Fondation pour la paix urbaine is an honorary member.")
    assert "It has no representative yet: designate one" in ballot.effect_note


def test_honorary_appointment_rejected_starts_nothing(board, rule, staff):
    organisation = factories.OrganisationFactory()
    ballot = open_vote(members.HONORARY, organisation, staff, "Appoint them", "")

    reject(ballot, board, ["", "", "", ""])

    assert not organisation.memberships.exists()


@pytest.fixture
def member(db):
    membership = factories.MembershipFactory(
        started_on=datetime.date(2020, 3, 1),
        period_start=timezone.localdate() - datetime.timedelta(days=30),
        period_end=timezone.localdate() + datetime.timedelta(days=334),
    )
    factories.RepresentativeFactory(organisation=membership.organisation)
    return membership


DISMISSAL_MOTION = "Used the Centre's name to promote a surveillance product."


def test_dismissal_approved_ends_the_membership_for_cause(board, rule, staff, member):
    ballot = open_vote(
        members.DISMISSAL, member.organisation, staff, "Dismiss the member", DISMISSAL_MOTION
    )

    approve(ballot, board)

    member.refresh_from_db()
    assert member.status == MembershipStatus.ENDED
    assert member.ended_on == timezone.localdate()
    assert member.end_reason == EndReason.DISMISSED
    assert member.end_note == DISMISSAL_MOTION
    change = member.status_changes.get()
    assert (change.from_status, change.to_status) == (
        MembershipStatus.ACTIVE,
        MembershipStatus.ENDED,
    )
    assert change.note == f"Dismissed for cause: {DISMISSAL_MOTION}"
    assert change.at is not None


def test_dismissal_closed_by_the_president_records_who_dismissed_and_why(
    board, rule, staff, member
):
    ballot = open_vote(
        members.DISMISSAL, member.organisation, staff, "Dismiss the member", DISMISSAL_MOTION
    )
    for director in board.others[:3]:
        vote(ballot, director, Choice.FOR)
    vote(ballot, board.others[3], Choice.AGAINST, "A warning would do.")
    past_deadline(ballot)

    services.close_ballot(ballot=ballot, by=board.president)

    member.refresh_from_db()
    assert (member.status, member.end_reason) == (MembershipStatus.ENDED, EndReason.DISMISSED)
    change = member.status_changes.get()
    assert change.actor == board.president
    assert change.note == f"Dismissed for cause: {DISMISSAL_MOTION}"


def test_dismissal_rejected_keeps_the_member(board, rule, staff, member):
    ballot = open_vote(
        members.DISMISSAL, member.organisation, staff, "Dismiss the member", DISMISSAL_MOTION
    )

    reject(ballot, board, ["A warning would do.", "", "", ""])

    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE
    assert not member.status_changes.exists()


def test_dismissed_member_is_told_why_by_email(board, rule, staff, member, mailoutbox):
    representative = member.organisation.representatives.get()
    ballot = open_vote(
        members.DISMISSAL, member.organisation, staff, "Dismiss the member", DISMISSAL_MOTION
    )
    mailoutbox.clear()

    approve(ballot, board)

    (message,) = sent_to(mailoutbox, representative.user.email)
    assert member.organisation.name in message.subject + message.body
    assert DISMISSAL_MOTION in message.body
