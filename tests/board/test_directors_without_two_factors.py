"""A director without two-factor authentication cannot vote (the administration, where the Board
votes, turns them away), so they do not count towards the quorum until they can. The staff and
the President are told who cannot vote yet, and the director is told how to set it up."""

import re
from html import unescape

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from board import services
from tests import factories
from tests.board.conftest import application_with_board, vote, with_totp

pytestmark = pytest.mark.django_db

NOTICE = "These directors cannot vote yet"


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def cannot_vote_section(response) -> str:
    html = response.content.decode()
    match = re.search(r'<div id="cannot-vote"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""


@pytest.fixture
def ready(board):
    """Every director has an authenticator app but two: one without, and one whose account
    does not open the administration at all."""
    for director in board.directors[:5]:
        with_totp(director)
    Authenticator.objects.filter(user=board.others[4]).delete()
    board.others[5].is_staff = False
    board.others[5].save(update_fields=["is_staff"])
    return board


@pytest.mark.parametrize("who", ["staff", "president"])
def test_the_ballot_page_tells_the_staff_and_the_president_who_cannot_vote_yet(
    client, ready, staff, ballot, who
):
    client.force_login(with_totp(staff) if who == "staff" else ready.president)

    response = client.get(reverse("admin:board_ballot_change", args=[ballot.pk]))

    notice = cannot_vote_section(response)
    assert NOTICE in notice
    assert f"{ready.others[4]}: two-factor authentication not set up" in notice
    assert f"{ready.others[5]}: no access to the administration" in notice
    for director in ready.directors[:5]:
        assert str(director) not in notice


def test_the_notice_goes_once_they_can_vote_or_the_vote_is_decided(client, ready, staff, ballot):
    client.force_login(with_totp(staff))
    url = reverse("admin:board_ballot_change", args=[ballot.pk])
    assert f"{ready.others[4]}: two-factor authentication not set up" in cannot_vote_section(
        client.get(url)
    )
    # Five directors can vote: 50 % of them is three. The two who cannot do not hold it short.
    assert services.tally_of(ballot).quorum_needed == 3
    assert services.tally_of(ballot).tally.not_voted == 5

    with_totp(ready.others[4])
    with_totp(ready.others[5])
    ready.others[5].is_staff = True
    ready.others[5].save(update_fields=["is_staff"])
    assert cannot_vote_section(client.get(url)) == ""
    ready.others[5].is_staff = False
    ready.others[5].save(update_fields=["is_staff"])
    assert "no access to the administration" in cannot_vote_section(client.get(url))

    # Six can vote now; three for, the President among them, is already certain (a tie would be
    # the President's).
    for director in ready.directors[:3]:
        vote(ballot, director, "for")
    ballot.refresh_from_db()
    assert ballot.status == "decided"

    assert NOTICE not in text(client.get(url))


def test_the_vote_opened_email_tells_the_director_how_to_set_up_two_factors_and_the_president_who(
    ready, rule, applicant, staff, mailoutbox
):
    mailoutbox.clear()

    application_with_board(applicant=applicant, staff=staff)

    by_address = {m.to[0]: m for m in mailoutbox if m.subject.startswith("[ICPC] Board vote:")}
    without_factor = by_address[ready.others[4].email].body
    assert "you have not set it up yet: you cannot vote until you do" in " ".join(
        without_factor.split()
    )
    assert reverse("mfa_activate_totp") in without_factor
    assert "ask the Centre's staff to give you access" in " ".join(
        by_address[ready.others[5].email].body.split()
    )
    to_president = " ".join(by_address[ready.president.email].body.split())
    assert "As President: these directors cannot vote yet" in to_president
    assert f"- {ready.others[4]}: two-factor authentication not set up" in to_president
    assert f"- {ready.others[5]}: no access to the administration" in to_president
    ready_director = by_address[ready.others[0].email].body
    assert "two-factor" not in ready_director
    assert "As President" not in ready_director


def test_who_cannot_vote_is_found_in_one_query(ready, django_assert_num_queries):
    factories.DirectorFactory.create_batch(3, two_factor=False)
    directors = services.sitting_directors()

    with django_assert_num_queries(1):
        blocked = services.directors_who_cannot_vote(directors)

    assert len(blocked) == 5
