"""Only the applicant sees an application; its documents also go to the Centre's staff and Board."""

import pytest
from django.urls import reverse

from applications import services
from applications.models import Application, ApplicationDocument, DocumentKind, Status
from tests.applications.conftest import PDF, complete_draft, form_data, pdf_upload, with_totp
from tests.factories import DirectorFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(applicant):
    return complete_draft(applicant)


@pytest.fixture
def letter(draft) -> ApplicationDocument:
    return draft.documents.get(kind=DocumentKind.LETTER)


@pytest.fixture
def stranger_client(client):
    client.force_login(UserFactory())
    return client


def download_url(document: ApplicationDocument) -> str:
    return reverse("applications:document", args=[document.application_id, document.pk])


@pytest.mark.parametrize("page", ["detail", "edit"])
def test_another_applicants_pages_are_not_found(stranger_client, draft, page):
    response = stranger_client.get(reverse(f"applications:{page}", args=[draft.pk]))

    assert response.status_code == 404


def test_another_applicant_cannot_save_over_a_draft(stranger_client, draft):
    response = stranger_client.post(
        reverse("applications:edit", args=[draft.pk]),
        form_data({"org_name": "Hijacked"}, action="save"),
    )

    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.org_name != "Hijacked"


def test_another_applicant_cannot_submit_a_draft(stranger_client, draft, mailoutbox):
    response = stranger_client.post(
        reverse("applications:edit", args=[draft.pk]), form_data(action="submit")
    )

    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert mailoutbox == []


def test_another_applicant_cannot_answer_a_question(stranger_client, applicant, staff_user):
    application = services.submit_application(application=complete_draft(applicant), by=applicant)
    services.request_information(application=application, by=staff_user, message="Statutes?")

    response = stranger_client.post(
        reverse("applications:answer", args=[application.pk]), {"message": "Here they are"}
    )

    assert response.status_code == 404
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED


def test_another_applicant_cannot_withdraw_an_application(stranger_client, draft):
    response = stranger_client.post(reverse("applications:withdraw", args=[draft.pk]))

    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_another_applicant_cannot_download_a_document(stranger_client, letter):
    response = stranger_client.get(download_url(letter))

    assert response.status_code == 404


def test_another_applicant_cannot_remove_a_document(stranger_client, draft, letter):
    response = stranger_client.post(
        reverse("applications:remove_document", args=[draft.pk, letter.pk])
    )

    assert response.status_code == 404
    assert ApplicationDocument.objects.filter(pk=letter.pk).exists()


def test_a_document_is_found_only_under_its_own_application(applicant_client, applicant, letter):
    # Another application of the same applicant (start_application would return the same draft).
    mine = Application.objects.create(applicant=applicant)

    response = applicant_client.get(reverse("applications:document", args=[mine.pk, letter.pk]))
    assert response.status_code == 404

    response = applicant_client.post(
        reverse("applications:remove_document", args=[mine.pk, letter.pk])
    )
    assert response.status_code == 404
    assert ApplicationDocument.objects.filter(pk=letter.pk).exists()


def test_the_applicant_opens_their_pdf_in_the_browser_sandboxed(applicant_client, letter):
    response = applicant_client.get(download_url(letter))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="Letter to the President.pdf"'
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PDF


def test_a_file_name_with_accents_is_kept_in_the_download(applicant_client, applicant, draft):
    document = services.add_document(
        application=draft,
        kind=DocumentKind.SUPPORTING,
        upload=pdf_upload("Statuts signés.pdf"),
        by=applicant,
    )

    response = applicant_client.get(download_url(document))

    assert response.status_code == 200
    assert response["Content-Disposition"] == ("inline; filename*=utf-8''Statuts%20sign%C3%A9s.pdf")


@pytest.mark.parametrize("factory", [StaffFactory, DirectorFactory], ids=["staff", "director"])
def test_the_centres_staff_and_board_directors_download_documents(client, applicant, factory):
    application = services.submit_application(application=complete_draft(applicant), by=applicant)
    letter = application.documents.get()
    client.force_login(with_totp(factory()))

    response = client.get(download_url(letter))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.parametrize("factory", [StaffFactory, DirectorFactory], ids=["staff", "director"])
def test_staff_and_directors_without_two_factor_authentication_get_no_document(
    client, applicant, factory
):
    application = services.submit_application(application=complete_draft(applicant), by=applicant)
    client.force_login(factory(two_factor=False) if factory is DirectorFactory else factory())

    assert client.get(download_url(application.documents.get())).status_code == 404


def test_a_draft_s_documents_are_the_applicant_s_alone(client, applicant):
    draft = complete_draft(applicant)
    client.force_login(with_totp(StaffFactory()))

    assert client.get(download_url(draft.documents.get())).status_code == 404


def test_an_anonymous_visitor_gets_no_document(client, letter):
    response = client.get(download_url(letter))

    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == 404


def test_uploads_are_not_served_from_any_public_url(client, applicant_client, letter, settings):
    name = letter.file.name
    assert name.startswith("applications/")

    for url in (f"/media/{name}", f"/{name}", f"{settings.STATIC_URL}{name}"):
        assert client.get(url).status_code == 404, url
        assert applicant_client.get(url).status_code == 404, url


def test_the_applicant_sees_their_own_pages(applicant_client, draft):
    for page in ("detail", "edit"):
        response = applicant_client.get(reverse(f"applications:{page}", args=[draft.pk]))
        assert response.status_code == 200, page
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT
