"""The conversation on an application: the staff's questions, the applicant's answers and the
documents that came with them, kept on the application's page after the answer is sent."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import Application, ApplicationDocument, Status
from tests.applications.conftest import pdf_upload, submitted_application, text_of
from tests.factories import DirectorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_board(db):
    """Votes open only when the Board has a sitting President."""
    DirectorFactory(is_board_president=True)


@pytest.fixture
def submitted(applicant) -> Application:
    return submitted_application(applicant)


def detail_url(application: Application) -> str:
    return reverse("applications:detail", args=[application.pk])


def answer_url(application: Application) -> str:
    return reverse("applications:answer", args=[application.pk])


def section(html: str, heading_id: str) -> str:
    """The card whose heading has ``heading_id``."""
    match = re.search(rf'<section\b[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id!r} on the page"
    return match.group(0)


def ask(application: Application, staff_user, message: str, *, at: datetime.datetime | None = None):
    services.request_information(application=application, by=staff_user, message=message)
    if at is not None:
        event = application.events.filter(to_status=Status.INFO_REQUESTED).latest("pk")
        event.at = at
        event.save(update_fields=["at"])


def test_after_answering_the_applicant_still_sees_the_question_and_their_answer(
    applicant_client, applicant, staff_user, submitted
):
    ask(submitted, staff_user, "Please send your statutes.")
    response = applicant_client.post(answer_url(submitted), {"message": "Attached, page 3."})
    assert response.status_code == 302

    html = applicant_client.get(detail_url(submitted)).content.decode()

    conversation = text_of(section(html, "conversation"))
    assert "Please send your statutes." in conversation
    assert "You answered" in conversation
    assert "Attached, page 3." in conversation
    assert 'action="/applications/' not in section(html, "conversation")  # no form: answered


def test_every_question_and_answer_is_shown_in_order(
    applicant_client, applicant, staff_user, submitted
):
    ask(submitted, staff_user, "First question?")
    services.answer_information_request(application=submitted, by=applicant, message="First.")
    ask(submitted, staff_user, "Second question?")

    html = applicant_client.get(detail_url(submitted)).content.decode()

    conversation = text_of(section(html, "conversation"))
    order = [conversation.index(text) for text in ("First question?", "First.", "Second question?")]
    assert order == sorted(order)
    assert "Waiting for your answer." in conversation
    assert 'name="message"' in section(html, "conversation")


def test_the_thread_says_who_asked_and_when_in_montreal_time(
    applicant_client, staff_user, submitted
):
    staff_user.first_name, staff_user.last_name = "Nadia", "Tremblay"
    staff_user.save(update_fields=["first_name", "last_name"])
    # 14:05 in UTC is 09:05 in Montréal in November (UTC-5).
    ask(
        submitted,
        staff_user,
        "Statutes?",
        at=datetime.datetime(2026, 11, 25, 14, 5, tzinfo=datetime.UTC),
    )

    conversation = text_of(
        section(applicant_client.get(detail_url(submitted)).content.decode(), "conversation")
    )

    assert "Nadia Tremblay asked" in conversation
    assert "25 November 2026, 09:05 (Montréal time)" in conversation


def test_documents_sent_with_an_answer_are_listed_under_it(
    applicant_client, applicant, staff_user, submitted
):
    ask(submitted, staff_user, "Statutes?")
    applicant_client.post(
        answer_url(submitted),
        {"message": "Here they are.", "documents": [pdf_upload("Statutes 2024.pdf")]},
    )

    html = section(applicant_client.get(detail_url(submitted)).content.decode(), "conversation")

    answer = re.search(r'<article class="thread-message thread-answer".*?</article>', html, re.S)
    assert answer
    document = ApplicationDocument.objects.get(original_name="Statutes 2024.pdf")
    assert f'href="/applications/{submitted.pk}/documents/{document.pk}/"' in answer.group(0)
    # The letter sent with the application is not part of the answer.
    assert "Letter to the President.pdf" not in answer.group(0)


def test_a_file_kept_while_the_answer_had_an_error_is_listed_and_need_not_be_chosen_again(
    applicant_client, applicant, staff_user, submitted
):
    ask(submitted, staff_user, "Statutes?")

    response = applicant_client.post(
        answer_url(submitted), {"message": "", "documents": [pdf_upload("Statutes.pdf")]}
    )

    assert response.status_code == 400
    html = response.content.decode()
    kept = re.search(r'<div[^>]*id="kept-documents".*?</div>', html, re.S)
    assert kept and "Statutes.pdf" in kept.group(0)
    assert "you do not need to choose them again" in text_of(kept.group(0))
    assert 'id="refused-documents"' not in html
    assert "This field is required." in text_of(html)

    # The answer sent next carries the kept file, which is not sent twice.
    response = applicant_client.post(answer_url(submitted), {"message": "Attached."})
    assert response.status_code == 302
    assert ApplicationDocument.objects.filter(original_name="Statutes.pdf").count() == 1
    (exchange,) = submitted.exchanges()
    assert [d.original_name for d in exchange.documents] == ["Statutes.pdf"]
    assert exchange.answer is not None and exchange.answer.note == "Attached."


def test_only_a_refused_file_is_to_be_chosen_again(
    applicant_client, applicant, staff_user, submitted
):
    ask(submitted, staff_user, "Statutes?")
    refused = SimpleUploadedFile("script.exe", b"MZ\x90\x00not a document", "application/pdf")

    response = applicant_client.post(
        answer_url(submitted),
        {"message": "Both files.", "documents": [pdf_upload("Statutes.pdf"), refused]},
    )

    assert response.status_code == 400
    html = response.content.decode()
    refused_box = re.search(r'<div[^>]*id="refused-documents".*?</div>', html, re.S)
    assert refused_box and "script.exe" in refused_box.group(0)
    kept = re.search(r'<div[^>]*id="kept-documents".*?</div>', html, re.S)
    assert kept and "Statutes.pdf" in kept.group(0) and "script.exe" not in kept.group(0)
    assert "Both files." in html  # what was typed is still in the form
    submitted.refresh_from_db()
    assert submitted.status == Status.INFO_REQUESTED


def test_the_thread_include_serves_the_staff_with_the_applicants_name(
    applicant, staff_user, submitted, rf
):
    applicant.first_name, applicant.last_name = "Jeanne", "Roy"
    applicant.save(update_fields=["first_name", "last_name"])
    ask(submitted, staff_user, "Statutes?")
    services.answer_information_request(application=submitted, by=applicant, message="Sent.")

    html = render_to_string(
        "applications/thread.html", {"exchanges": submitted.exchanges()}, request=rf.get("/")
    )

    text = text_of(html)
    assert "Statutes?" in text
    assert "Jeanne Roy answered" in text
    assert "You answered" not in text


def test_the_page_runs_a_fixed_number_of_queries_whatever_the_length_of_the_thread(
    applicant_client, applicant, staff_user, submitted, django_assert_max_num_queries
):
    ask(submitted, staff_user, "One?")
    services.answer_information_request(application=submitted, by=applicant, message="One.")
    with CaptureQueriesContext(connection) as few:
        applicant_client.get(detail_url(submitted))
    for number in range(4):
        ask(submitted, staff_user, f"Question {number}?")
        services.add_document(
            application=submitted,
            kind="supporting",
            upload=pdf_upload(f"doc{number}.pdf"),
            by=applicant,
        )
        services.answer_information_request(
            application=submitted, by=applicant, message=f"Answer {number}."
        )

    with django_assert_max_num_queries(len(few)):
        html = applicant_client.get(detail_url(submitted)).content.decode()

    assert html.count('class="thread-exchange"') == 5


WHAT_NEXT = {
    Status.DRAFT: "Only you can see this draft.",
    Status.SUBMITTED: "The Centre's staff are checking that your application is complete.",
    Status.INFO_REQUESTED: "answer their question below",
    Status.WITH_BOARD: "The Board of Directors is voting on your application.",
    Status.APPROVED: "Your organisation is a member.",
    Status.REJECTED: "This application is closed.",
    Status.WITHDRAWN: "Nothing more happens with this application.",
}


@pytest.mark.parametrize("status", list(Status))
def test_the_page_says_what_happens_next_for_each_status(
    applicant_client, applicant, submitted, status
):
    if status == Status.DRAFT:
        application = services.start_application(applicant=applicant)
    else:
        Application.objects.filter(pk=submitted.pk).update(status=status)
        application = submitted

    html = applicant_client.get(detail_url(application)).content.decode()

    assert WHAT_NEXT[status] in text_of(section(html, "next"))
    for other, text in WHAT_NEXT.items():
        if other != status:
            assert text not in text_of(html)


def test_the_rejected_page_points_to_the_contact_page(applicant_client, submitted):
    Application.objects.filter(pk=submitted.pk).update(status=Status.REJECTED)

    html = section(applicant_client.get(detail_url(submitted)).content.decode(), "next")

    assert f'href="{reverse("contact")}"' in html


def test_the_montreal_zone_is_the_centres_zone(settings):
    # The pages say "Montréal time": they must mean the zone the dates are shown in.
    assert ZoneInfo(settings.TIME_ZONE).utcoffset(timezone.now().replace(tzinfo=None)) == ZoneInfo(
        "America/Toronto"
    ).utcoffset(timezone.now().replace(tzinfo=None))
