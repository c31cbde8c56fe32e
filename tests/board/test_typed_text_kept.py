"""The vote form never loses what a director typed: a refused vote shows the ballot's page again
with the form as it was sent and each error next to its field."""

import re
from html import unescape

import pytest
from django.urls import reverse

from board.models import Choice
from tests.board.conftest import past_deadline, with_totp

pytestmark = pytest.mark.django_db

COMMENT = "I would like the city's letter first; the work in Lyon looks sound otherwise."


def vote_url(ballot) -> str:
    return reverse("admin:board_ballot_vote", args=[ballot.pk])


def comment_shown(html: str) -> str:
    match = re.search(r'<textarea[^>]*name="comment"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, "the comment box is on the page"
    return unescape(match.group(1)).strip("\n")


@pytest.fixture
def signed_in(client, board):
    client.force_login(with_totp(board.others[0]))
    return client


def test_a_vote_without_a_choice_shows_the_page_again_with_the_comment_kept(signed_in, ballot):
    response = signed_in.post(vote_url(ballot), {"comment": COMMENT})

    assert response.status_code == 400
    html = response.content.decode()
    choice_row = html[html.index('id="vote-choice"') : html.index('id="vote-comment"')]
    assert "Choose how you vote." in choice_row
    assert comment_shown(html) == COMMENT
    assert 'id="vote-form"' in html
    assert not ballot.votes.exists()


def test_a_comment_with_a_nul_byte_is_refused_next_to_it_and_kept(signed_in, ballot):
    response = signed_in.post(
        vote_url(ballot), {"choice": Choice.AGAINST, "comment": f"{COMMENT}\x00"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    comment_row = html[html.index('id="vote-comment"') : html.index("</textarea>")]
    assert "Null characters are not allowed." in comment_row
    assert comment_shown(html) == COMMENT  # kept, less the byte that cannot be stored
    assert re.search(r'<input[^>]*value="against"[^>]*checked', html)
    assert not ballot.votes.exists()

    again = signed_in.post(vote_url(ballot), {"choice": Choice.AGAINST, "comment": COMMENT})

    assert again.status_code == 302
    assert ballot.votes.get().comment == COMMENT


def test_the_presidents_reason_with_a_nul_byte_is_refused_next_to_it_and_kept(
    client, board, ballot
):
    past_deadline(ballot)
    client.force_login(with_totp(board.president))

    response = client.post(
        reverse("admin:board_ballot_close", args=[ballot.pk]), {"reason": "Too early.\x00"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    close_row = html[html.index('id="close-reason"') :]
    assert "Null characters are not allowed." in close_row[: close_row.index("</textarea>")]
    assert "Too early.</textarea>" in close_row
    ballot.refresh_from_db()
    assert ballot.is_open
