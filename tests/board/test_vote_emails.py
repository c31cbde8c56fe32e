"""The vote emails say when the vote closes with its zone, and put the link to the vote on its own
line near the top, in the director's language."""

import datetime
import re
import zoneinfo

import pytest
from django.utils import timezone

from board import services
from board.models import Ballot
from tests.board.conftest import application_with_board

pytestmark = pytest.mark.django_db

MONTREAL = zoneinfo.ZoneInfo("America/Montreal")


@pytest.fixture
def deadline_soon() -> datetime.datetime:
    """A week from now, at 17:00 in Montréal."""
    day = timezone.now().astimezone(MONTREAL) + datetime.timedelta(days=7)
    return day.replace(hour=17, minute=0, second=0, microsecond=0)


def shown(deadline: datetime.datetime) -> str:
    return f"{deadline.day} {deadline:%B} {deadline.year}, 17:00 (Montréal time)"


def link_line(body: str, ballot: Ballot) -> int:
    lines = body.splitlines()
    (number,) = [i for i, line in enumerate(lines) if f"/board/ballot/{ballot.pk}/" in line]
    assert re.fullmatch(r"https?://\S+", lines[number]), lines[number]
    return number


def test_the_vote_opened_email_gives_the_deadline_in_montreal_time_and_the_link_first(
    board, rule, applicant, staff, mailoutbox, deadline_soon
):
    director = board.others[0]
    _application, ballot = application_with_board(
        applicant=applicant, staff=staff, deadline=deadline_soon
    )

    (email,) = [m for m in mailoutbox if m.to == [director.email]]

    assert f"The vote is open until {shown(deadline_soon)}." in email.body
    assert link_line(email.body, ballot) <= 5


def test_a_french_director_gets_the_french_vote_page(
    board, rule, applicant, staff, mailoutbox, deadline_soon
):
    director = board.others[0]
    director.language = "fr"
    director.save()
    _application, ballot = application_with_board(
        applicant=applicant, staff=staff, deadline=deadline_soon
    )

    (email,) = [m for m in mailoutbox if m.to == [director.email]]

    assert f"/fr/admin/board/ballot/{ballot.pk}/change/" in email.body


def test_the_reminder_gives_the_deadline_in_montreal_time_and_the_link_first(
    board, rule, applicant, staff, mailoutbox, deadline_soon
):
    director = board.others[0]
    _application, ballot = application_with_board(
        applicant=applicant, staff=staff, deadline=deadline_soon
    )
    mailoutbox.clear()

    services.send_vote_reminders(now=deadline_soon - datetime.timedelta(hours=30))

    (email,) = [m for m in mailoutbox if m.to == [director.email]]
    assert f"The vote closes on {shown(deadline_soon)}." in email.body
    assert link_line(email.body, ballot) <= 5
