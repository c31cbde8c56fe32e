"""The Board's deliberations are confidential: how each director voted and what they wrote is for
the Board and the staff. The applicant reads the decision and the reason a person wrote for them
(the President closing the vote, or the staff on the Board's behalf)."""

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from applications.models import Status
from board import services
from board.models import Choice, Outcome
from members import services as members
from tests import factories
from tests.board.conftest import application_with_board, in_days, past_deadline, vote, with_totp

pytestmark = pytest.mark.django_db

AGAINST = [
    "Their director is my brother-in-law's business partner.",
    "Mostly private policing; not our field.",
    "Weak letter.",
    "No community work at all.",
]
GENERIC = (
    "The Board decides by a vote of its directors, whose deliberations are confidential. "
    "The Centre's staff will write to you with the Board's reason."
)


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def one_line(body: str) -> str:
    return " ".join(body.split())


def reason_url(ballot) -> str:
    return reverse("admin:board_ballot_reason", args=[ballot.pk])


def ballot_page(ballot) -> str:
    return reverse("admin:board_ballot_change", args=[ballot.pk])


@pytest.fixture
def rejected_by_the_votes(board, ballot, application, mailoutbox):
    """Four directors against, with comments: the outcome is certain and the Board decides."""
    vote(ballot, board.president, Choice.FOR, "A fine network.")
    for director, comment in zip(board.others, AGAINST, strict=False):
        vote(ballot, director, Choice.AGAINST, comment)
    ballot.refresh_from_db()
    application.refresh_from_db()
    assert (ballot.outcome, application.status) == (Outcome.REJECTED, Status.REJECTED)
    return ballot


def test_the_rejected_applicants_page_shows_neither_the_tally_nor_the_comments(
    client, applicant, application, rejected_by_the_votes
):
    client.force_login(applicant)

    page = text(client.get(reverse("applications:detail", args=[application.pk])))

    assert "The Board of Directors did not approve this application." in page
    assert GENERIC in page
    for confidential in [*AGAINST, "A fine network.", "4 against", "1 for"]:
        assert confidential not in page


def test_the_rejection_email_has_no_tally_and_no_comment_and_nothing_is_stored_for_it(
    applicant, application, rejected_by_the_votes, mailoutbox
):
    (message,) = [m for m in mailoutbox if m.to == [applicant.email] and "decision" in m.subject]

    body = one_line(message.body)
    assert GENERIC in body
    for confidential in [*AGAINST, "A fine network.", "4 against", "1 for"]:
        assert confidential not in body
    # Nothing was written in anyone's language to be sent later: the sentence is the template's.
    application.refresh_from_db()
    assert application.decision_reason == rejected_by_the_votes.decision_reason == ""


def test_the_generic_sentence_is_rendered_in_the_applicants_language(
    board, rule, staff, mailoutbox
):
    french = factories.UserFactory(first_name="Élise", last_name="Moreau", language="fr")
    _application, ballot = application_with_board(applicant=french, staff=staff)
    mailoutbox.clear()

    for director in board.others[:4]:
        vote(ballot, director, Choice.AGAINST, "Not in our field.")

    (message,) = [m for m in mailoutbox if m.to == [french.email]]
    assert message.body.startswith("Bonjour Élise Moreau,")
    assert "Not in our field." not in message.body
    assert "Hello" not in message.body


def test_the_staff_are_asked_to_write_the_reason_when_no_one_wrote_it(
    staff, rejected_by_the_votes, mailoutbox
):
    (asked,) = [m for m in mailoutbox if m.to == [staff.email]]

    assert "Write the Board's reason" in asked.subject
    assert f"/admin/board/ballot/{rejected_by_the_votes.pk}/change/" in asked.body
    assert rejected_by_the_votes.awaits_reason


def test_the_staff_write_the_reason_and_the_applicant_receives_it_as_written(
    client, staff, applicant, application, rejected_by_the_votes, mailoutbox
):
    mailoutbox.clear()
    client.force_login(with_totp(staff))
    page = client.get(ballot_page(rejected_by_the_votes))
    assert 'id="reason-form"' in page.content.decode()
    assert "No reason has been written for the applicant yet" in text(page)

    response = client.post(
        reason_url(rejected_by_the_votes),
        {"reason": "The Board asks for evidence of work with residents & the city."},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "The reason is written and sent to the applicant."
    ]
    (message,) = mailoutbox
    assert message.to == [applicant.email]
    assert "The Board asks for evidence of work with residents & the city." in message.body
    assert "Mostly private policing" not in message.body
    rejected_by_the_votes.refresh_from_db()
    assert rejected_by_the_votes.reason_by == staff
    assert rejected_by_the_votes.reason_at is not None
    application.refresh_from_db()
    assert application.decision_reason == (
        "The Board asks for evidence of work with residents & the city."
    )
    client.force_login(applicant)
    applicant_page = text(client.get(reverse("applications:detail", args=[application.pk])))
    assert "The Board asks for evidence of work with residents & the city." in applicant_page
    assert GENERIC not in applicant_page


def test_the_reason_is_written_once(staff, rejected_by_the_votes, mailoutbox):
    services.write_decision_reason(ballot=rejected_by_the_votes, by=staff, reason="First.")
    mailoutbox.clear()

    with pytest.raises(ValidationError, match="No reason is awaited"):
        services.write_decision_reason(ballot=rejected_by_the_votes, by=staff, reason="Second.")

    assert mailoutbox == []


def test_an_empty_reason_is_refused_next_to_the_field(client, staff, rejected_by_the_votes):
    client.force_login(with_totp(staff))

    response = client.post(reason_url(rejected_by_the_votes), {"reason": "   "})

    assert response.status_code == 400
    html = response.content.decode()
    row = html[html.index('id="reason-reason"') :]
    assert "This field is required." in row[: row.index("</textarea>")]
    rejected_by_the_votes.refresh_from_db()
    assert rejected_by_the_votes.reason_by is None


def test_a_director_who_is_not_president_does_not_write_the_reason(
    client, board, rejected_by_the_votes
):
    with pytest.raises(PermissionDenied):
        services.write_decision_reason(
            ballot=rejected_by_the_votes, by=board.others[0], reason="Mine."
        )
    client.force_login(with_totp(board.others[0]))

    response = client.post(reason_url(rejected_by_the_votes), {"reason": "Mine."})

    assert response.status_code == 403
    assert 'id="reason-form"' not in client.get(ballot_page(rejected_by_the_votes)).content.decode()


def test_the_board_and_the_staff_still_see_each_vote_and_comment(
    client, board, staff, rejected_by_the_votes
):
    for person in (board.others[5], staff):
        client.force_login(with_totp(person))

        page = text(client.get(ballot_page(rejected_by_the_votes)))

        for comment in [*AGAINST, "A fine network."]:
            assert comment in page
        assert "for the Board and the Centre's staff only" in page


def test_the_presidents_reason_is_sent_as_written_and_no_staff_reason_is_asked(
    board, ballot, application, applicant, staff, mailoutbox
):
    vote(ballot, board.others[0], Choice.AGAINST, "Secret doubts.")
    vote(ballot, board.others[1], Choice.AGAINST)
    vote(ballot, board.others[2], Choice.FOR)
    vote(ballot, board.others[3], Choice.AGAINST)
    past_deadline(ballot)
    mailoutbox.clear()

    services.close_ballot(ballot=ballot, by=board.president, reason="Please reapply next year.")

    (message,) = mailoutbox
    assert message.to == [applicant.email]
    assert "The Board's reason:\n\nPlease reapply next year." in message.body
    assert "Secret doubts." not in message.body
    assert "will write to you" not in message.body
    ballot.refresh_from_db()
    assert (ballot.reason_by, ballot.decision_reason) == (
        board.president,
        "Please reapply next year.",
    )
    assert not ballot.awaits_reason


def test_the_vote_form_and_the_close_form_say_who_reads_what(client, board, ballot):
    client.force_login(with_totp(board.others[0]))
    vote_page = text(client.get(ballot_page(ballot)))
    assert (
        "Your vote and your comment are for the Board and the Centre's staff only: they are "
        "never sent to the applicant."
    ) in vote_page
    assert "sent to the applicant as the Board's reason" not in vote_page

    past_deadline(ballot)
    client.force_login(with_totp(board.president))
    close_page = text(client.get(ballot_page(ballot)))
    assert "The Board's reason, for the applicant" in close_page
    assert "When the applicant is told the decision, this is sent to them as you write it" in (
        close_page
    )
    assert "The directors' votes and comments are never sent" in close_page


def test_an_honorary_appointments_reason_stays_with_the_board_and_the_staff(
    client, board, rule, staff
):
    ballot = members.propose_honorary_membership(
        organisation=factories.OrganisationFactory(name="Forum"),
        details="An appointment.",
        deadline=in_days(3),
        by=staff,
    )
    client.force_login(with_totp(board.president))
    vote_page = text(client.get(ballot_page(ballot)))
    past_deadline(ballot)

    close_page = text(client.get(ballot_page(ballot)))

    assert "Your vote and your comment are for the Board and the Centre's staff only." in (
        vote_page
    )
    assert "The Board's reason (for the Board and the staff only)" in close_page


def test_a_dismissed_member_reads_the_cause_and_the_presidents_reason_not_the_comments(
    board, rule, staff, mailoutbox
):
    member = factories.MembershipFactory()
    representative = factories.RepresentativeFactory(organisation=member.organisation)
    ballot = members.propose_dismissal(
        organisation=member.organisation,
        cause="Unpaid dues for three years.",
        deadline=in_days(3),
        by=staff,
    )
    for director in board.others[:3]:
        vote(ballot, director, Choice.FOR, "They were warned twice, privately.")
    vote(ballot, board.others[3], Choice.AGAINST, "Too harsh.")
    past_deadline(ballot)
    mailoutbox.clear()

    services.close_ballot(ballot=ballot, by=board.president, reason="Dues are a duty of members.")

    (message,) = [m for m in mailoutbox if m.to == [representative.user.email]]
    assert "Unpaid dues for three years." in message.body
    assert "Dues are a duty of members." in message.body
    assert "warned twice" not in message.body
    assert "Too harsh." not in message.body
