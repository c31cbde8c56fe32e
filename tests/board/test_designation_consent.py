"""A person named as representative acts for the organisation only once they accept."""

import pytest
from django.urls import reverse

from accounts.models import User
from board.models import Choice
from members import services
from members.models import Representative, RepresentativeStatus
from tests import factories
from tests.board.conftest import application_with_board, vote

pytestmark = pytest.mark.django_db

REP_EMAIL = "camille.rousseau@oltp.example.org"


@pytest.fixture
def approved(board, rule, staff, applicant, mailoutbox):
    """A staff account already exists under the address the applicant named."""
    existing = factories.StaffFactory(email=REP_EMAIL)
    application, ballot = application_with_board(applicant=applicant, staff=staff)
    for director in board.directors[:4]:
        vote(ballot, director, Choice.FOR)
    application.refresh_from_db()
    return application, existing


def test_naming_an_existing_account_designates_it_only_once_it_accepts(approved, mailoutbox):
    application, existing = approved

    designation = Representative.objects.get(organisation=application.organisation)
    assert designation.user == existing
    assert designation.status == RepresentativeStatus.PROPOSED
    assert not Representative.objects.current().filter(user=existing).exists()
    (welcome,) = [m for m in mailoutbox if m.to == [REP_EMAIL]]
    assert "asks you to be its representative" in welcome.subject
    assert "nothing is done in your name until you do" in welcome.body


def test_the_designated_person_accepts_on_their_account_page(client, approved):
    application, existing = approved
    client.force_login(existing)
    designation = Representative.objects.get(organisation=application.organisation)

    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Accept the designation" in page
    response = client.post(reverse("members:accept_designation", args=[designation.pk]))

    assert response.status_code == 302
    designation.refresh_from_db()
    assert designation.status == RepresentativeStatus.CURRENT
    last = designation.status_changes.last()
    assert (last.from_status, last.to_status, last.actor) == ("proposed", "current", existing)
    assert "Accept the designation" not in client.get(reverse("accounts:profile")).content.decode()


def test_declining_ends_the_designation_and_tells_the_staff(client, approved, staff, mailoutbox):
    application, existing = approved
    client.force_login(existing)
    designation = Representative.objects.get(organisation=application.organisation)
    mailoutbox.clear()

    client.post(
        reverse("members:decline_designation", args=[designation.pk]),
        {"note": "I am leaving the organisation."},
    )

    designation.refresh_from_db()
    assert designation.status == RepresentativeStatus.ENDED
    assert designation.ended_on is not None
    (to_staff,) = [m for m in mailoutbox if m.to == [staff.email]]
    assert "declined" in to_staff.subject
    assert "I am leaving the organisation." in to_staff.body


def test_nobody_else_can_answer_someone_elses_designation(client, approved):
    application, _existing = approved
    designation = Representative.objects.get(organisation=application.organisation)
    client.force_login(factories.UserFactory())

    for name in ("members:accept_designation", "members:decline_designation"):
        assert client.post(reverse(name, args=[designation.pk])).status_code == 404
    designation.refresh_from_db()
    assert designation.status == RepresentativeStatus.PROPOSED


def test_the_applicant_who_names_themselves_is_designated_at_once(board, rule, staff, applicant):
    application, ballot = application_with_board(
        applicant=applicant, staff=staff, rep_email=applicant.email
    )
    for director in board.directors[:4]:
        vote(ballot, director, Choice.FOR)
    application.refresh_from_db()

    designation = Representative.objects.get(organisation=application.organisation)
    assert designation.user == applicant
    assert designation.status == RepresentativeStatus.CURRENT


def test_accepting_twice_changes_nothing(approved):
    application, existing = approved
    designation = Representative.objects.get(organisation=application.organisation)
    services.accept_designation(representative=designation, by=existing)

    with pytest.raises(Exception, match="no longer awaiting"):
        services.accept_designation(representative=designation, by=existing)
    assert designation.status_changes.count() == 2
    assert User.objects.filter(email=REP_EMAIL).count() == 1


def test_a_new_representative_is_written_to_in_the_language_the_application_gave(
    board, rule, staff, applicant, mailoutbox
):
    application, ballot = application_with_board(
        applicant=applicant, staff=staff, rep_language="fr"
    )
    for director in board.directors[:4]:
        vote(ballot, director, Choice.FOR)

    person = User.objects.get(email=REP_EMAIL)
    assert person.language == "fr"
    (welcome,) = [m for m in mailoutbox if m.to == [REP_EMAIL]]
    assert "vous demande de le représenter" in welcome.subject
