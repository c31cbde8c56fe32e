"""The applicant's list of applications: each with its status and its history, in order."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications import services
from applications.models import Application, Status
from tests.applications.conftest import (
    ApplicationFactory,
    SubmittedApplicationFactory,
    submitted_application,
    text_of,
)
from tests.factories import DirectorFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/applications/"


@pytest.fixture(autouse=True)
def _a_board(db):
    """Votes open only when the Board has a sitting President."""
    DirectorFactory(is_board_president=True)


def article_for(html: str, application: Application) -> str:
    """The card the list shows for ``application``."""
    for article in re.findall(r"<article\b.*?</article>", html, re.S):
        if f'href="/applications/{application.pk}/"' in article:
            return article
    raise AssertionError(f"application {application.pk} is not listed")


def timeline(article: str) -> list[str]:
    steps = re.findall(
        r'<li class="timeline-item">\s*<div class="fw-semibold">(.*?)</div>', article
    )
    return [text_of(step) for step in steps]


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={LIST}"


def test_the_list_shows_only_the_signed_in_applicants_applications(applicant_client, applicant):
    mine = SubmittedApplicationFactory(applicant=applicant, org_name="My Safer City")
    my_draft = ApplicationFactory(applicant=applicant, org_name="My Unfinished Draft")
    SubmittedApplicationFactory(org_name="Somebody Else's Network")
    ApplicationFactory(org_name="Somebody Else's Draft")

    response = applicant_client.get(LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "My Safer City" in html
    assert "My Unfinished Draft" in html
    assert "Somebody Else" not in text_of(html)
    assert {a.pk for a in response.context["applications"]} == {mine.pk, my_draft.pk}


def test_an_applicant_with_no_application_is_invited_to_apply(applicant_client):
    SubmittedApplicationFactory()

    html = applicant_client.get(LIST).content.decode()

    assert "You have not applied yet." in html
    assert 'href="/apply/"' in html


def test_each_application_shows_its_status_and_its_history_in_order(
    applicant_client, applicant, staff_user
):
    application = submitted_application(applicant)
    services.request_information(application=application, by=staff_user, message="Statutes?")
    services.answer_information_request(application=application, by=applicant, message="Here.")
    services.send_to_board(
        application=application,
        by=staff_user,
        deadline=timezone.now() + datetime.timedelta(days=7),
    )
    draft = services.start_application(applicant=applicant)

    html = applicant_client.get(LIST).content.decode()

    card = article_for(html, application)
    assert "With the Board for a vote" in text_of(
        re.search(r'<span class="badge.*?</span>', card).group(0)
    )
    assert application.reference in card
    assert timeline(card) == [
        "Draft",
        "Submitted, being checked",
        "More information requested",
        "Submitted, being checked",
        "With the Board for a vote",
    ]
    card = article_for(html, draft)
    assert "Untitled application" in card
    assert timeline(card) == ["Draft"]


def test_the_history_follows_the_time_of_each_change_not_the_order_of_entry(
    applicant_client, applicant
):
    application = SubmittedApplicationFactory(applicant=applicant, history=False)
    now = timezone.now()
    # Recorded out of order, e.g. by an import: the page still shows them by time.
    application.events.create(
        from_status=Status.DRAFT, to_status=Status.SUBMITTED, at=now, actor=applicant
    )
    application.events.create(
        to_status=Status.DRAFT, at=now - datetime.timedelta(days=3), actor=applicant
    )

    html = applicant_client.get(LIST).content.decode()

    assert timeline(article_for(html, application)) == ["Draft", "Submitted, being checked"]


def test_staff_notes_stay_off_the_applicants_timeline(applicant_client, applicant, staff_user):
    application = submitted_application(applicant)
    services.send_to_board(
        application=application,
        by=staff_user,
        deadline=timezone.now() + datetime.timedelta(days=7),
    )

    card = article_for(applicant_client.get(LIST).content.decode(), application)

    assert "Vote open until" not in card


def queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(captured)


def test_the_list_runs_a_fixed_number_of_queries(
    applicant_client, applicant, django_assert_num_queries
):
    for _ in range(2):
        SubmittedApplicationFactory(applicant=applicant)
    queries_for_list(applicant_client)  # the first request reads the account, later ones keep it
    few = queries_for_list(applicant_client)

    for _ in range(4):
        SubmittedApplicationFactory(applicant=applicant)
        ApplicationFactory(applicant=applicant)
    SubmittedApplicationFactory(applicant=UserFactory())

    with django_assert_num_queries(few):
        response = applicant_client.get(LIST)

    assert len(response.context["applications"]) == 10
    assert response.content.decode().count('class="timeline-item"') == 6 * 2 + 4 * 1


def test_an_application_with_a_question_waiting_says_so_and_leads_to_it(
    applicant_client, applicant, staff_user
):
    waiting = submitted_application(applicant)
    services.request_information(application=waiting, by=staff_user, message="Statutes?")
    answered = submitted_application(applicant)
    services.request_information(application=answered, by=staff_user, message="Budget?")
    services.answer_information_request(application=answered, by=applicant, message="Sent.")

    html = applicant_client.get(LIST).content.decode()

    card = article_for(html, waiting)
    assert "The Centre has asked you a question." in text_of(card)
    assert f'href="/applications/{waiting.pk}/#conversation"' in card
    assert "The Centre has asked you a question." not in text_of(article_for(html, answered))
