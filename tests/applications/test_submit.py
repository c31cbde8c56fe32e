"""Submitting the application: all is checked, it gets its reference, the applicant is told."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    DocumentKind,
    Status,
)
from tests.applications.conftest import (
    COMPLETE,
    complete_draft,
    field_errors,
    form_data,
    input_value,
    pdf_upload,
    submitted_application,
)
from tests.concurrency import race
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MONTREAL = zoneinfo.ZoneInfo("America/Montreal")


def submit(client, application: Application, fields: dict | None = None, **extra):
    return client.post(
        reverse("applications:edit", args=[application.pk]),
        form_data(fields, action="submit", **extra),
    )


def test_incomplete_application_is_refused_with_a_message_next_to_each_missing_field(
    applicant_client, applicant, mailoutbox
):
    draft = services.start_application(applicant=applicant)

    response = submit(applicant_client, draft, {"city": "Lyon"})

    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "org_name") == "Give the organisation's name."
    assert field_errors(html, "category") == (
        "Choose the statutory category that fits the organisation."
    )
    assert field_errors(html, "rep_qualification") == (
        "Say which qualification the representative has."
    )
    assert field_errors(html, "rep_declaration") == (
        "Confirm that the representative holds this position."
    )
    assert field_errors(html, "agrees_to_statutes") == (
        "The organisation must agree to the statutes to apply."
    )
    assert field_errors(html, "letter") == (
        "Upload the signed application letter addressed to the President of the Board."
    )
    # What was given is neither flagged nor lost.
    assert field_errors(html, "city") == ""
    assert input_value(html, "city") == "Lyon"
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert draft.reference is None
    assert draft.city == "Lyon"
    assert mailoutbox == []


def test_a_complete_application_without_its_letter_is_refused_under_the_letter_field(
    applicant_client, applicant
):
    draft = complete_draft(applicant, letter=False)

    response = submit(applicant_client, draft)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Upload the signed application letter" in field_errors(html, "letter")
    assert field_errors(html, "org_name") == ""
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_complete_application_gets_the_first_reference_of_the_year(
    applicant_client, applicant, mailoutbox
):
    draft = complete_draft(applicant)
    before = timezone.now()

    response = submit(applicant_client, draft)

    assert response.status_code == 302
    assert response["Location"] == reverse("applications:detail", args=[draft.pk])
    application = Application.objects.get(pk=draft.pk)
    assert application.reference == f"APP-{timezone.localdate().year}-0001"
    assert application.status == Status.SUBMITTED
    assert application.submitted_at is not None
    assert before <= application.submitted_at <= timezone.now()
    page = applicant_client.get(response["Location"]).content.decode()
    assert application.reference in page
    assert "is submitted; a confirmation is on its way by email" in page


def test_the_next_application_gets_the_next_reference(client, applicant):
    year = timezone.localdate().year
    first = services.submit_application(application=complete_draft(applicant), by=applicant)
    other = UserFactory()
    client.force_login(other)

    response = submit(client, complete_draft(other))

    assert response.status_code == 302
    assert first.reference == f"APP-{year}-0001"
    assert Application.objects.get(applicant=other).reference == f"APP-{year}-0002"


def test_references_are_numbered_afresh_each_year_in_the_centres_time_zone(applicant, monkeypatch):
    def submit_at(moment: datetime.datetime) -> str:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        draft = complete_draft(applicant)
        return services.submit_application(application=draft, by=applicant).reference

    # 23:30 in Montreal on New Year's Eve is already 1 January in UTC.
    assert submit_at(datetime.datetime(2031, 12, 31, 23, 30, tzinfo=MONTREAL)) == "APP-2031-0001"
    assert submit_at(datetime.datetime(2031, 12, 31, 23, 45, tzinfo=MONTREAL)) == "APP-2031-0002"
    assert submit_at(datetime.datetime(2032, 1, 1, 0, 15, tzinfo=MONTREAL)) == "APP-2032-0001"
    assert submit_at(datetime.datetime(2032, 1, 2, 9, 0, tzinfo=MONTREAL)) == "APP-2032-0002"


def test_submission_is_recorded_in_the_timeline_as_done_by_the_applicant(
    applicant_client, applicant
):
    draft = complete_draft(applicant)

    submit(applicant_client, draft)

    events = list(ApplicationEvent.objects.filter(application=draft).order_by("at", "pk"))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", Status.DRAFT),
        (Status.DRAFT, Status.SUBMITTED),
    ]
    assert events[-1].actor == applicant


def test_the_applicant_is_emailed_a_confirmation_with_the_reference(
    applicant_client, applicant, mailoutbox
):
    draft = complete_draft(applicant)

    submit(applicant_client, draft)

    reference = Application.objects.get(pk=draft.pk).reference
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [applicant.email]
    assert reference in message.subject
    assert reference in message.body
    assert COMPLETE["org_name"] in message.body
    assert f"/applications/{draft.pk}/" in message.body


def test_a_submitted_application_can_no_longer_be_edited(applicant_client, applicant):
    application = services.submit_application(application=complete_draft(applicant), by=applicant)
    edit = reverse("applications:edit", args=[application.pk])
    detail = reverse("applications:detail", args=[application.pk])

    response = applicant_client.get(edit)
    assert response.status_code == 302
    assert response["Location"] == detail

    response = applicant_client.post(
        edit, form_data({**COMPLETE, "org_name": "Changed afterwards"}, action="save")
    )
    assert response.status_code == 302
    assert response["Location"] == detail
    application.refresh_from_db()
    assert application.org_name == COMPLETE["org_name"]

    with pytest.raises(ValidationError):
        services.save_draft(application=application, data={"org_name": "Changed"}, areas=None)
    application.refresh_from_db()
    assert application.org_name == COMPLETE["org_name"]


def test_a_submitted_application_takes_no_new_documents_and_keeps_its_letter(applicant):
    application = services.submit_application(application=complete_draft(applicant), by=applicant)
    letter = application.documents.get()

    with pytest.raises(ValidationError):
        services.add_document(
            application=application,
            kind=DocumentKind.LETTER,
            upload=pdf_upload("another.pdf"),
            by=applicant,
        )
    with pytest.raises(ValidationError):
        services.remove_document(document=letter, by=applicant)

    assert list(application.documents.all()) == [letter]


def test_an_application_is_submitted_only_once(applicant, mailoutbox):
    application = services.submit_application(application=complete_draft(applicant), by=applicant)

    with pytest.raises(ValidationError):
        services.submit_application(application=application, by=applicant)

    application.refresh_from_db()
    assert application.reference.endswith("-0001")
    assert len(mailoutbox) == 1


def test_a_letter_sent_along_with_a_mistake_is_kept_so_it_need_not_be_sent_again(
    applicant_client, applicant, mailoutbox
):
    draft = complete_draft(applicant, letter=False)

    response = submit(
        applicant_client,
        draft,
        {**COMPLETE, "website": "not a url"},
        letter=pdf_upload("Signed letter.pdf"),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "website") == "Enter a valid URL."
    assert field_errors(html, "letter") == ""
    letter = ApplicationDocument.objects.get(application=draft)
    assert letter.kind == DocumentKind.LETTER
    assert letter.original_name == "Signed letter.pdf"
    assert letter.file.storage.exists(letter.file.name)
    # The page lists the letter, with a link to it.
    assert "Signed letter.pdf" in html
    assert reverse("applications:document", args=[draft.pk, letter.pk]) in html
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT
    assert mailoutbox == []

    # Corrected, without uploading the letter again, it goes through.
    response = submit(applicant_client, draft, COMPLETE)

    assert response.status_code == 302
    assert Application.objects.get(pk=draft.pk).status == Status.SUBMITTED
    assert ApplicationDocument.objects.filter(application=draft).count() == 1


def test_the_confirmation_email_writes_names_as_typed(mailoutbox):
    applicant = UserFactory(first_name="Liam", last_name="O'Connor")

    submitted_application(applicant, org_name="Parents & Youth Safety Network")

    body = mailoutbox[0].body
    assert "Hello Liam O'Connor," in body
    assert "membership application of Parents & Youth Safety Network." in body


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_applications_submitted_at_once_get_different_references(postgres, mailoutbox):
    # No counter for the year yet: both submissions would create it.
    applicants = [UserFactory(), UserFactory()]
    drafts = [complete_draft(person) for person in applicants]

    results = race(
        *[
            lambda draft=draft, person=person: services.submit_application(
                application=draft, by=person
            )
            for draft, person in zip(drafts, applicants, strict=True)
        ]
    )

    assert all(isinstance(result, Application) for result in results), results
    year = timezone.localdate().year
    references = sorted(Application.objects.values_list("reference", flat=True))
    assert references == [f"APP-{year}-0001", f"APP-{year}-0002"]
    assert len(mailoutbox) == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_click_on_submit_submits_once(postgres, applicant, mailoutbox):
    draft = complete_draft(applicant)

    results = race(
        lambda: services.submit_application(application=draft, by=applicant),
        lambda: services.submit_application(application=draft, by=applicant),
    )

    submitted = [r for r in results if isinstance(r, Application)]
    refused = [r for r in results if not isinstance(r, Application)]
    assert len(submitted) == 1, results
    assert len(refused) == 1 and isinstance(refused[0], ValidationError), results
    draft.refresh_from_db()
    assert draft.reference == f"APP-{timezone.localdate().year}-0001"
    assert draft.events.filter(to_status=Status.SUBMITTED).count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_four_clicks_on_submit_at_once_all_land_on_the_submitted_application(
    postgres, applicant, mailoutbox
):
    draft = complete_draft(applicant)
    url = reverse("applications:edit", args=[draft.pk])

    def click():
        client = Client()
        client.force_login(applicant)
        response = client.post(url, form_data(action="submit"), follow=True)
        return response.redirect_chain, response.content.decode()

    results = race(*[click for _ in range(4)])

    assert not [r for r in results if isinstance(r, Exception)], results
    detail = reverse("applications:detail", args=[draft.pk])
    assert [chain for chain, _html in results] == [[(detail, 302)]] * 4  # type: ignore[misc]
    pages = [html for _chain, html in results]  # type: ignore[misc]
    assert not any("Some answers need your attention" in html for html in pages)
    assert sum("can no longer be edited" in html for html in pages) == 3
    draft.refresh_from_db()
    assert draft.reference == f"APP-{timezone.localdate().year}-0001"
    assert len(mailoutbox) == 1


def test_a_submit_that_loses_the_race_after_saving_the_draft_lands_on_the_application(
    applicant_client, applicant, monkeypatch
):
    # The other click submits between this click's save of the draft and its own submit.
    draft = complete_draft(applicant)
    save_draft = services.save_draft

    def save_then_the_other_click_submits(**kwargs):
        saved = save_draft(**kwargs)
        services.submit_application(application=saved, by=applicant)
        return saved

    monkeypatch.setattr(services, "save_draft", save_then_the_other_click_submits)

    response = applicant_client.post(
        reverse("applications:edit", args=[draft.pk]), form_data(action="submit"), follow=True
    )

    detail = reverse("applications:detail", args=[draft.pk])
    assert response.redirect_chain == [(detail, 302)]
    html = response.content.decode()
    assert "This application has been submitted and can no longer be edited." in html
    assert "Some answers need your attention" not in html
