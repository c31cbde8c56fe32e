"""A vote's deadline has an upper bound: a far-future date (9999-12-31) used to be accepted and
then broke every page that showed the vote ("year 10000 is out of range")."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from applications import services as applications
from applications.models import DocumentKind, Status
from board.models import Ballot
from tests.board.conftest import APPLICATION_FIELDS, in_days, letter, with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(board, rule, applicant):
    """A complete application in the staff queue, ready to go to the Board."""
    application = applications.start_application(applicant=applicant)
    applications.save_draft(application=application, data=APPLICATION_FIELDS, areas=None)
    applications.add_document(
        application=application, kind=DocumentKind.LETTER, upload=letter(), by=applicant
    )
    return applications.submit_application(application=application, by=applicant)


def send_to_board_url(application) -> str:
    return reverse("admin:applications_application_send_to_board", args=[application.pk])


def form_row(html: str, name: str) -> str:
    position = html.index(f'name="{name}"')
    start = html.rfind('<div class="form-row', 0, position)
    return html[start:position]


@pytest.mark.parametrize(
    "deadline",
    [
        datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.UTC),
        timezone.now() + datetime.timedelta(days=90, minutes=5),
    ],
    ids=["year-9999", "just-past-90-days"],
)
def test_a_deadline_beyond_90_days_is_refused_on_the_deadline_field(submitted, staff, deadline):
    with pytest.raises(ValidationError) as refused:
        applications.send_to_board(application=submitted, by=staff, deadline=deadline)

    (message,) = refused.value.message_dict["deadline"]
    assert message.startswith("A vote stays open 90 days at most: choose a deadline before ")
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert not Ballot.objects.about(submitted).open().exists()
    # Within the bound, it opens.
    ballot = applications.send_to_board(application=submitted, by=staff, deadline=in_days(89))
    assert ballot.is_open


def test_the_staff_form_shows_the_far_future_deadline_error_next_to_the_field(
    client, submitted, staff
):
    client.force_login(with_totp(staff))

    response = client.post(send_to_board_url(submitted), {"deadline": "9999-12-31T23:59"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "A vote stays open 90 days at most" in form_row(html, "deadline")
    assert 'value="9999-12-31T23:59"' in html  # what was typed is kept
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    # The pages that broke still work.
    assert client.get(reverse("admin:board_ballot_changelist"), {"show": "all"}).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200
