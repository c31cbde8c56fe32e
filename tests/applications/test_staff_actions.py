"""Staff work through the queue in the admin: ask for more information, send to the Board."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications import services
from applications.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    DocumentKind,
    Status,
)
from board.models import Ballot, BallotStatus, MajorityBasis, TieRule, VotingRule
from tests.applications.conftest import (
    ApplicationFactory,
    SubmittedApplicationFactory,
    pdf_upload,
    submitted_application,
    text_of,
    with_totp,
)
from tests.factories import DirectorFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = "/admin/applications/application/"


def request_information_url(application: Application) -> str:
    return f"{QUEUE}{application.pk}/request-information/"


def send_to_board_url(application: Application) -> str:
    return f"{QUEUE}{application.pk}/send-to-board/"


def local_input(moment: datetime.datetime) -> str:
    """A date and time as the browser's datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown_in_queue(client, query: str = "") -> set[int]:
    response = client.get(QUEUE + query)
    assert response.status_code == 200
    return {application.pk for application in response.context["cl"].result_list}


def form_row(html: str, name: str) -> str:
    """The admin form row holding the input ``name`` (its errors are printed inside it)."""
    position = html.index(f'name="{name}"')
    start = html.rfind('<div class="form-row', 0, position)
    end = html.find('<div class="form-row', position)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture
def submitted(applicant, mailoutbox):
    application = submitted_application(applicant)
    mailoutbox.clear()
    return application


@pytest.fixture
def directors(db) -> list[User]:
    sitting = [DirectorFactory(is_board_president=True), DirectorFactory()]
    DirectorFactory(is_active=False)  # a former director, whose account is switched off
    return sitting


# --- The queue ---------------------------------------------------------------------------------


def test_staff_see_the_queue_without_drafts(staff_client):
    waiting = SubmittedApplicationFactory(org_name="Safer Lyon")
    asked = SubmittedApplicationFactory(status=Status.INFO_REQUESTED, org_name="Safer Lille")
    voting = SubmittedApplicationFactory(status=Status.WITH_BOARD, org_name="Safer Nice")
    draft = ApplicationFactory(org_name="Unfinished Draft Org")

    response = staff_client.get(QUEUE)

    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Safer Lyon", "Safer Lille", "Safer Nice"):
        assert name in html
    assert "Unfinished Draft Org" not in html
    shown = {a.pk for a in response.context["cl"].result_list}
    assert shown == {waiting.pk, asked.pk, voting.pk}
    # Not even by its address.
    response = staff_client.get(f"{QUEUE}{draft.pk}/change/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_queue_lands_on_undecided_applications_and_keeps_the_rest_a_click_away(
    staff_client,
):
    waiting = SubmittedApplicationFactory()
    approved = SubmittedApplicationFactory(status=Status.APPROVED)
    withdrawn = SubmittedApplicationFactory(status=Status.WITHDRAWN)
    ApplicationFactory()

    assert shown_in_queue(staff_client) == {waiting.pk}
    assert shown_in_queue(staff_client, "?status=all") == {waiting.pk, approved.pk, withdrawn.pk}
    assert shown_in_queue(staff_client, "?status=withdrawn") == {withdrawn.pk}
    assert shown_in_queue(staff_client, "?status=draft") == set()


def test_the_queue_lists_the_longest_waiting_first(staff_client):
    now = timezone.now()
    recent = SubmittedApplicationFactory(submitted_at=now - datetime.timedelta(days=1))
    oldest = SubmittedApplicationFactory(submitted_at=now - datetime.timedelta(days=20))

    response = staff_client.get(QUEUE)

    assert [a.pk for a in response.context["cl"].result_list] == [oldest.pk, recent.pk]


def test_the_queue_filters_by_status(staff_client):
    waiting = SubmittedApplicationFactory()
    SubmittedApplicationFactory(status=Status.INFO_REQUESTED)
    SubmittedApplicationFactory(status=Status.WITHDRAWN)

    assert shown_in_queue(staff_client, "?status=submitted") == {waiting.pk}


def test_the_queue_filters_by_category(staff_client):
    ngo = SubmittedApplicationFactory(category="ngo")
    SubmittedApplicationFactory(category="city")

    assert shown_in_queue(staff_client, "?category=ngo") == {ngo.pk}


def test_the_queue_filters_by_country(staff_client):
    french = SubmittedApplicationFactory(country="FR")
    SubmittedApplicationFactory(country="CA")

    assert shown_in_queue(staff_client, "?country=FR") == {french.pk}


@pytest.mark.parametrize(
    ("band", "expected"), [("week", "days_2"), ("month", "days_10"), ("older", "days_40")]
)
def test_the_queue_filters_by_how_long_an_application_has_waited(staff_client, band, expected):
    now = timezone.now()
    made = {
        f"days_{days}": SubmittedApplicationFactory(
            submitted_at=now - datetime.timedelta(days=days)
        )
        for days in (2, 10, 40)
    }

    assert shown_in_queue(staff_client, f"?age={band}") == {made[expected].pk}


def test_a_signed_in_person_who_is_not_staff_gets_no_access_to_the_admin(applicant_client):
    SubmittedApplicationFactory(org_name="Safer Lyon")

    response = applicant_client.get(QUEUE, follow=True)

    assert response.status_code == 403
    assert response.redirect_chain[0][0].startswith("/admin/login/")
    assert "Safer Lyon" not in response.content.decode()


def test_staff_without_two_factor_authentication_do_not_see_the_queue(client, staff_user):
    client.force_login(staff_user)

    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- Asking for more information ---------------------------------------------------------------


def test_the_change_page_offers_the_staff_actions_for_a_submitted_application(
    staff_client, submitted
):
    html = staff_client.get(f"{QUEUE}{submitted.pk}/change/").content.decode()

    assert request_information_url(submitted) in html
    assert send_to_board_url(submitted) in html


def test_asking_for_more_information_tells_the_applicant_and_records_who_asked(
    staff_client, staff_user, submitted, applicant, mailoutbox
):
    page = staff_client.get(request_information_url(submitted))
    assert page.status_code == 200
    assert 'name="message"' in page.content.decode()

    response = staff_client.post(
        request_information_url(submitted),
        {"message": "Please send the statutes of the organisation."},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}{submitted.pk}/change/"
    submitted.refresh_from_db()
    assert submitted.status == Status.INFO_REQUESTED
    event = submitted.events.order_by("at", "pk").last()
    assert (event.from_status, event.to_status) == (Status.SUBMITTED, Status.INFO_REQUESTED)
    assert event.actor == staff_user
    assert event.note == "Please send the statutes of the organisation."
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [applicant.email]
    assert submitted.reference in message.subject
    assert "Please send the statutes of the organisation." in message.body
    assert f"/applications/{submitted.pk}/" in message.body


def test_asking_without_a_question_is_refused(staff_client, submitted, mailoutbox):
    response = staff_client.post(request_information_url(submitted), {"message": "  "})

    assert response.status_code == 200
    assert "This field is required." in text_of(form_row(response.content.decode(), "message"))
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert mailoutbox == []


def test_the_applicant_sees_the_question_and_answers_it_with_a_document(
    applicant_client, applicant, staff_user, submitted, mailoutbox
):
    services.request_information(
        application=submitted, by=staff_user, message="Please send the statutes."
    )
    mailoutbox.clear()
    detail = reverse("applications:detail", args=[submitted.pk])
    assert "Please send the statutes." in applicant_client.get(detail).content.decode()

    response = applicant_client.post(
        reverse("applications:answer", args=[submitted.pk]),
        {"message": "Here are our statutes.", "documents": [pdf_upload("Statutes.pdf")]},
    )

    assert response.status_code == 302
    assert response["Location"] == detail
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    event = submitted.events.order_by("at", "pk").last()
    assert (event.from_status, event.to_status) == (Status.INFO_REQUESTED, Status.SUBMITTED)
    assert (event.actor, event.note) == (applicant, "Here are our statutes.")
    document = ApplicationDocument.objects.get(application=submitted, original_name="Statutes.pdf")
    assert document.kind == DocumentKind.SUPPORTING
    assert document.uploaded_by == applicant
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [staff_user.email]
    assert submitted.reference in message.subject
    assert "Here are our statutes." in message.body
    assert f"{QUEUE}{submitted.pk}/change/" in message.body


def test_a_second_click_on_send_my_answer_changes_nothing_and_says_why(
    applicant_client, staff_user, submitted, mailoutbox
):
    services.request_information(application=submitted, by=staff_user, message="Statutes?")
    answer_url = reverse("applications:answer", args=[submitted.pk])
    applicant_client.post(answer_url, {"message": "Attached."})
    mailoutbox.clear()

    response = applicant_client.post(answer_url, {"message": "Attached."}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("applications:detail", args=[submitted.pk])
    assert "No question from the Centre is waiting for an answer here." in text_of(
        response.content.decode()
    )
    assert submitted.events.filter(note="Attached.").count() == 1
    assert mailoutbox == []


def test_an_answer_without_a_message_is_refused(applicant_client, staff_user, submitted):
    services.request_information(application=submitted, by=staff_user, message="Statutes?")

    response = applicant_client.post(
        reverse("applications:answer", args=[submitted.pk]), {"message": ""}
    )

    assert response.status_code == 400
    submitted.refresh_from_db()
    assert submitted.status == Status.INFO_REQUESTED


# --- Sending to the Board ----------------------------------------------------------------------


def test_sending_to_the_board_opens_a_vote_under_the_current_rule_and_tells_every_director(
    staff_client, staff_user, submitted, directors, mailoutbox
):
    VotingRule.objects.all().delete()
    VotingRule.objects.create(
        quorum_percent=66, majority=MajorityBasis.ALL_VOTES_CAST, tie=TieRule.REJECTED
    )
    deadline = (timezone.now() + datetime.timedelta(days=10)).replace(second=0, microsecond=0)
    page = staff_client.get(send_to_board_url(submitted))
    assert page.status_code == 200
    assert 'name="deadline"' in page.content.decode()

    response = staff_client.post(send_to_board_url(submitted), {"deadline": local_input(deadline)})

    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}{submitted.pk}/change/"
    submitted.refresh_from_db()
    assert submitted.status == Status.WITH_BOARD
    ballot = Ballot.objects.about(submitted).get()
    assert ballot.kind == "application"
    assert ballot.status == BallotStatus.OPEN
    assert ballot.deadline == deadline
    assert ballot.opened_by == staff_user
    assert (ballot.quorum_percent, ballot.majority, ballot.tie) == (
        66,
        MajorityBasis.ALL_VOTES_CAST,
        TieRule.REJECTED,
    )
    assert submitted.reference in ballot.title
    event = submitted.events.order_by("at", "pk").last()
    assert (event.from_status, event.to_status) == (Status.SUBMITTED, Status.WITH_BOARD)
    assert event.actor == staff_user
    assert sorted(m.to[0] for m in mailoutbox) == sorted(d.email for d in directors)
    for message in mailoutbox:
        assert len(message.to) == 1
        assert f"/admin/board/ballot/{ballot.pk}/change/" in message.body


@pytest.mark.parametrize(
    "ahead", [datetime.timedelta(days=-1), datetime.timedelta(minutes=30)], ids=["past", "30min"]
)
def test_a_deadline_too_soon_is_refused_next_to_the_field(
    staff_client, submitted, directors, mailoutbox, ahead
):
    response = staff_client.post(
        send_to_board_url(submitted), {"deadline": local_input(timezone.now() + ahead)}
    )

    assert response.status_code == 200
    row = form_row(response.content.decode(), "deadline")
    assert "Give the directors at least an hour to vote." in text_of(row)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert not Ballot.objects.exists()
    assert mailoutbox == []


def test_an_application_already_with_the_board_cannot_be_sent_again(
    staff_client, staff_user, submitted, directors, mailoutbox
):
    services.send_to_board(
        application=submitted, by=staff_user, deadline=timezone.now() + datetime.timedelta(days=7)
    )
    mailoutbox.clear()

    response = staff_client.post(
        send_to_board_url(submitted),
        {"deadline": local_input(timezone.now() + datetime.timedelta(days=9))},
    )

    assert response.status_code == 200
    error = re.search(r'class="errornote">(.*?)</p>', response.content.decode(), re.S)
    assert error, "the refusal is explained on the page"
    assert "With the Board for a vote" in text_of(error.group(1))
    assert Ballot.objects.about(submitted).count() == 1
    assert mailoutbox == []


@pytest.mark.parametrize("action", [request_information_url, send_to_board_url])
def test_a_board_director_may_not_take_the_staff_actions(submitted, action, mailoutbox):
    director = signed_in(with_totp(DirectorFactory()))

    assert director.get(action(submitted)).status_code == 403
    response = director.post(
        action(submitted),
        {
            "message": "Why?",
            "deadline": local_input(timezone.now() + datetime.timedelta(days=5)),
        },
    )

    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert not Ballot.objects.exists()
    assert mailoutbox == []


def test_a_board_director_sees_the_application_but_not_the_staff_buttons(submitted):
    director = signed_in(with_totp(DirectorFactory()))

    response = director.get(f"{QUEUE}{submitted.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert submitted.org_name in html
    assert request_information_url(submitted) not in html
    assert send_to_board_url(submitted) not in html


def test_a_signed_in_applicant_cannot_reach_the_staff_actions(applicant_client, submitted):
    for action in (request_information_url, send_to_board_url):
        response = applicant_client.post(action(submitted), {"message": "Hi"})
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


# --- Withdrawal ---------------------------------------------------------------------------------


def test_withdrawing_while_with_the_board_cancels_the_vote(
    applicant_client, applicant, staff_user, submitted, directors, mailoutbox
):
    ballot = services.send_to_board(
        application=submitted, by=staff_user, deadline=timezone.now() + datetime.timedelta(days=7)
    )
    mailoutbox.clear()

    response = applicant_client.post(
        reverse("applications:withdraw", args=[submitted.pk]), {"reason": "We merged."}
    )

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.WITHDRAWN
    event = ApplicationEvent.objects.filter(application=submitted).order_by("at", "pk").last()
    assert (event.from_status, event.to_status) == (Status.WITH_BOARD, Status.WITHDRAWN)
    assert (event.actor, event.note) == (applicant, "We merged.")
    ballot.refresh_from_db()
    assert ballot.status == BallotStatus.CANCELLED
    assert "withdrew" in ballot.decision_reason
    assert sorted(m.to[0] for m in mailoutbox) == sorted(d.email for d in directors)
    assert all("cancelled" in m.subject.lower() for m in mailoutbox)


def test_a_withdrawn_application_cannot_be_withdrawn_again(applicant_client, submitted):
    url = reverse("applications:withdraw", args=[submitted.pk])
    applicant_client.post(url)

    response = applicant_client.post(url, follow=True)

    assert response.status_code == 200
    error = re.search(r'class="alert alert-danger">(.*?)</div>', response.content.decode(), re.S)
    assert error, "the refusal is explained on the page"
    assert "Withdrawn" in text_of(error.group(1))
    assert submitted.events.filter(to_status=Status.WITHDRAWN).count() == 1


def test_an_anonymous_visitor_is_not_let_into_the_queue(client):
    response = client.get(QUEUE)

    assert response.status_code == 302
    assert re.match(r"^/admin/login/\?next=", response["Location"])


def test_staff_member_without_the_staff_group_has_no_review_buttons(submitted):
    # A person marked is_staff but in no group (e.g. a new colleague not yet given a role).
    clerk = signed_in(with_totp(UserFactory(is_staff=True)))

    response = clerk.get(request_information_url(submitted))

    assert response.status_code == 403


def test_the_question_reaches_the_applicant_exactly_as_written(staff_user, submitted, mailoutbox):
    question = "Please send the organisation's statutes & last annual report."

    services.request_information(application=submitted, by=staff_user, message=question)

    assert question in mailoutbox[0].body
