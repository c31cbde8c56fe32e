"""Withdrawing an application: a page says what will happen and asks to confirm; a reason that
cannot be kept is said next to the field and nothing is withdrawn; the withdrawn application stays
readable."""

import datetime
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import Status
from board.models import Ballot, BallotStatus
from tests.applications.conftest import submitted_application, text_of
from tests.factories import DirectorFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "We are merging with the regional observatory; it will apply for both of us."


def withdraw_url(application) -> str:
    return reverse("applications:withdraw", args=[application.pk])


def detail_url(application) -> str:
    return reverse("applications:detail", args=[application.pk])


def reason_shown(html: str) -> str:
    match = re.search(r'<textarea[^>]*name="reason"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, "the reason box is on the page"
    return unescape(match.group(1)).strip("\n")


@pytest.fixture
def submitted(applicant, mailoutbox):
    application = submitted_application(applicant)
    mailoutbox.clear()
    return application


@pytest.fixture
def with_board(submitted):
    DirectorFactory(is_board_president=True)
    DirectorFactory()
    ballot = services.send_to_board(
        application=submitted,
        by=StaffFactory(),
        deadline=timezone.now() + datetime.timedelta(days=7),
    )
    submitted.refresh_from_db()
    return submitted, ballot


def test_the_application_page_leads_to_a_confirmation_rather_than_withdrawing_at_once(
    applicant_client, submitted
):
    html = applicant_client.get(detail_url(submitted)).content.decode()

    assert f'href="{withdraw_url(submitted)}"' in html
    assert f'action="{withdraw_url(submitted)}"' not in html


def test_the_confirmation_page_says_what_will_happen_and_changes_nothing(
    applicant_client, with_board
):
    application, ballot = with_board

    response = applicant_client.get(withdraw_url(application))

    assert response.status_code == 200
    page = text_of(response.content.decode())
    assert "The Centre stops considering the application" in page
    assert "The Board's vote on it is cancelled, and the directors are told." in page
    assert "It cannot be undone." in page
    assert "The application stays on this portal for your records" in page
    assert "Keep the application" in page
    application.refresh_from_db()
    ballot.refresh_from_db()
    assert (application.status, ballot.status) == (Status.WITH_BOARD, BallotStatus.OPEN)


def test_before_the_board_the_confirmation_does_not_speak_of_a_vote(applicant_client, submitted):
    response = applicant_client.get(withdraw_url(submitted))

    assert response.status_code == 200
    page = text_of(response.content.decode())
    assert "The Centre stops considering the application" in page
    assert "The Board's vote" not in page


def test_a_reason_with_a_nul_byte_is_refused_next_to_it_kept_and_nothing_is_withdrawn(
    applicant_client, with_board, mailoutbox
):
    application, ballot = with_board
    mailoutbox.clear()

    response = applicant_client.post(withdraw_url(application), {"reason": f"{REASON}\x00"})

    assert response.status_code == 400
    html = response.content.decode()
    errors = re.findall(r'id="error_\d+_id_reason"[^>]*>(.*?)</', html, re.S)
    assert [text_of(error) for error in errors] == ["Null characters are not allowed."]
    assert reason_shown(html) == REASON
    application.refresh_from_db()
    ballot.refresh_from_db()
    assert (application.status, ballot.status) == (Status.WITH_BOARD, BallotStatus.OPEN)
    assert not application.events.filter(to_status=Status.WITHDRAWN).exists()
    assert mailoutbox == []


def test_confirming_withdraws_and_the_application_stays_readable(
    applicant_client, applicant, with_board
):
    application, ballot = with_board

    response = applicant_client.post(withdraw_url(application), {"reason": REASON}, follow=True)

    assert response.redirect_chain == [(detail_url(application), 302)]
    assert response.status_code == 200
    page = text_of(response.content.decode())
    assert "The application is withdrawn. It stays here for your records." in page
    assert "You withdrew this application" in page
    assert application.org_name in page
    assert "Letter to the President.pdf" in page
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN
    event = application.events.get(to_status=Status.WITHDRAWN)
    assert (event.actor, event.note) == (applicant, REASON)
    assert Ballot.objects.get(pk=ballot.pk).status == BallotStatus.CANCELLED
    # Later visits too: the page, and the list of one's applications.
    assert applicant_client.get(detail_url(application)).status_code == 200
    assert application.org_name in text_of(
        applicant_client.get(reverse("applications:list")).content.decode()
    )


def test_a_withdrawn_application_offers_no_withdrawal(applicant_client, submitted):
    services.withdraw_application(application=submitted, by=submitted.applicant)

    page = applicant_client.get(withdraw_url(submitted), follow=True)

    assert page.redirect_chain == [(detail_url(submitted), 302)]
    assert "can no longer be withdrawn" in text_of(page.content.decode())
    assert f'href="{withdraw_url(submitted)}"' not in page.content.decode()


def test_someone_elses_application_cannot_be_withdrawn(client, submitted):
    client.force_login(UserFactory())

    assert client.get(withdraw_url(submitted)).status_code == 404
    assert client.post(withdraw_url(submitted), {"reason": "Mine now"}).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
