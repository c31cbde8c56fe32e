"""A director reads the applicant's PDFs and pictures in the browser, sandboxed; word processors'
files still download. Who may see them does not change."""

import pytest
from django.urls import reverse

from applications.models import ApplicationDocument
from tests.factories import PDF, UserFactory, with_totp

pytestmark = pytest.mark.django_db

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"


def document_url(document: ApplicationDocument) -> str:
    return reverse("applications:document", args=[document.application_id, document.pk])


@pytest.fixture
def letter(application) -> ApplicationDocument:
    return application.documents.get()


def test_a_pdf_opens_in_the_browser_sandboxed(client, board, letter):
    client.force_login(with_totp(board.others[0]))

    response = client.get(document_url(letter))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="Letter to the President.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.parametrize(
    ("content_type", "served_as"),
    [("image/png", "scan.png"), ("image/jpeg", "scan.jpg")],
    ids=["png", "jpeg"],
)
def test_a_picture_opens_in_the_browser_sandboxed(client, board, letter, content_type, served_as):
    ApplicationDocument.objects.filter(pk=letter.pk).update(
        content_type=content_type, original_name=served_as
    )
    client.force_login(with_totp(board.others[0]))

    response = client.get(document_url(letter))

    assert response["Content-Disposition"] == f'inline; filename="{served_as}"'
    assert response["Content-Type"] == content_type
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("content_type", "served_as"),
    [(DOCX, "Statutes.docx"), (ODT, "Statutes.odt")],
    ids=["docx", "odt"],
)
def test_a_word_processors_file_still_downloads(client, board, letter, content_type, served_as):
    ApplicationDocument.objects.filter(pk=letter.pk).update(
        content_type=content_type, original_name=served_as
    )
    client.force_login(with_totp(board.others[0]))

    response = client.get(document_url(letter))

    assert response["Content-Disposition"] == f'attachment; filename="{served_as}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" not in response.get("Content-Security-Policy", "")


def test_a_pdf_is_still_hidden_from_people_who_may_not_see_it(client, letter):
    client.force_login(UserFactory())

    assert client.get(document_url(letter)).status_code == 404
