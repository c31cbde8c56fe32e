"""A dismissal put to the Board: the member sees the cause and the deadline on its Membership
page and answers in writing; the directors read the answer."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from board import services as board
from members import services as members
from members.models import DismissalResponse, MembershipEvent, MembershipEventKind
from tests import factories
from tests.factories import with_totp
from tests.members.test_membership_page import member, page_of, signed_in

pytestmark = pytest.mark.django_db

CAUSE = "Used the Centre's name to promote a surveillance product."
RESPONSE = "The brochure was printed without our approval; we withdrew it in May."


@pytest.fixture
def president(db):
    president = factories.DirectorFactory(is_board_president=True)
    factories.DirectorFactory.create_batch(2)
    return president


@pytest.fixture
def representative(db):
    return factories.UserFactory(first_name="Lucie", last_name="Tremblay")


@pytest.fixture
def vote(president, representative):
    membership = member(representative)
    return members.propose_dismissal(
        organisation=membership.organisation,
        cause=CAUSE,
        deadline=timezone.now() + datetime.timedelta(days=7),
        by=factories.StaffFactory(),
    )


def respond_url(ballot) -> str:
    return reverse("members:respond_to_dismissal", args=[ballot.pk])


def field(ballot) -> str:
    return f"dismissal-{ballot.pk}-text"


def test_the_membership_page_shows_the_cause_the_deadline_and_a_form(client, vote, representative):
    page = page_of(signed_in(client, representative))

    assert "The Board of Directors is asked to dismiss the member" in page
    assert CAUSE.replace("'", "&#x27;") in page
    assert "The vote closes on" in page and "(Montréal time)" in page
    assert respond_url(vote) in page
    assert "Responses sent" not in page
    assert "Dismissal put to the Board" in page  # in the history


def test_the_representative_answers_in_writing_and_sees_the_answer(client, vote, representative):
    signed_in(client, representative)

    response = client.post(respond_url(vote), {field(vote): RESPONSE})

    assert response.status_code == 302
    answer = DismissalResponse.objects.get()
    assert (answer.ballot, answer.by, answer.text) == (vote, representative, RESPONSE)
    assert MembershipEvent.objects.filter(
        kind=MembershipEventKind.DISMISSAL_RESPONSE, by=representative
    ).exists()
    page = page_of(client)
    assert "Responses sent" in page
    assert RESPONSE in page
    assert "Send another response" in page


def test_the_directors_read_the_answer_on_the_vote_page(client, vote, representative, president):
    signed_in(client, representative).post(respond_url(vote), {field(vote): RESPONSE})
    client.force_login(with_totp(president))

    page = client.get(reverse("admin:board_ballot_change", args=[vote.pk])).content.decode()

    assert RESPONSE in page


def test_an_empty_answer_is_asked_for_next_to_the_field(client, vote, representative):
    response = signed_in(client, representative).post(respond_url(vote), {field(vote): " "})

    assert response.status_code == 400
    assert "Write your response." in response.content.decode()
    assert not DismissalResponse.objects.exists()


def test_someone_else_cannot_answer_for_the_member(client, vote):
    stranger = factories.UserFactory()

    response = signed_in(client, stranger).post(respond_url(vote), {field(vote): RESPONSE})

    assert response.status_code == 404
    assert "dismiss" not in page_of(client)
    assert not DismissalResponse.objects.exists()


def test_an_answer_after_the_vote_closed_is_refused(client, vote, representative):
    signed_in(client, representative)
    board.cancel_ballot(ballot=vote, reason="Sent to the Board by mistake.")

    response = client.post(respond_url(vote), {field(vote): RESPONSE}, follow=True)

    assert "too late to answer" in response.content.decode()
    assert not DismissalResponse.objects.exists()
    assert "The Board of Directors is asked to dismiss" not in page_of(client)
