"""Uploaded documents: what is accepted is decided by the content, within size limits."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications import services, uploads
from applications.models import ApplicationDocument, DocumentKind
from tests.applications.conftest import (
    JPEG,
    PDF,
    field_errors,
    form_data,
    make_docx,
    make_odt,
    make_png,
    make_zip,
    pdf_upload,
)

pytestmark = pytest.mark.django_db

ACCEPTED = "Send a PDF, DOCX, ODT, JPEG or PNG file."


@pytest.fixture
def draft(applicant):
    return services.start_application(applicant=applicant)


def upload(client, draft, **files):
    """Save the draft's form with files attached to it."""
    return client.post(
        reverse("applications:edit", args=[draft.pk]), form_data({}, action="save", **files)
    )


def stored_files(media) -> list:
    return sorted(p for p in media.rglob("*") if p.is_file())


def test_a_renamed_executable_is_refused_next_to_the_letter_field(
    applicant_client, draft, private_media
):
    program = SimpleUploadedFile("letter.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120)

    response = upload(applicant_client, draft, letter=program)

    assert response.status_code == 200
    message = field_errors(response.content.decode(), "letter")
    assert message == f"“letter.pdf” is not a document we accept. {ACCEPTED}"
    assert not ApplicationDocument.objects.exists()
    assert stored_files(private_media) == []


@pytest.mark.parametrize(
    "content",
    [
        make_zip({"payload.exe": "MZ..."}),
        make_zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}),
        make_zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}),
        b"PK\x03\x04 but not really a zip",
        b"<html><script>alert(1)</script></html>",
    ],
    ids=["zip-archive", "spreadsheet-docx", "ods-spreadsheet", "broken-zip", "html"],
)
def test_other_kinds_of_file_are_refused_whatever_their_name(applicant, draft, content):
    with pytest.raises(ValidationError) as refused:
        services.add_document(
            application=draft,
            kind=DocumentKind.LETTER,
            upload=SimpleUploadedFile("letter.docx", content),
            by=applicant,
        )

    assert ACCEPTED in " ".join(refused.value.messages)
    assert not ApplicationDocument.objects.exists()


def test_a_file_over_10_mb_is_refused_with_the_limit(applicant_client, draft, private_media):
    big = SimpleUploadedFile("big letter.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024 - 4))
    assert big.size == 10 * 1024 * 1024 + 1

    response = upload(applicant_client, draft, letter=big)

    assert response.status_code == 200
    message = field_errors(response.content.decode(), "letter")
    assert message == "“big letter.pdf” is larger than 10.0 MB, the most a file may be."
    assert not ApplicationDocument.objects.exists()
    assert stored_files(private_media) == []


def test_a_file_of_exactly_10_mb_is_accepted(applicant, draft):
    content = PDF + b"0" * (10 * 1024 * 1024 - len(PDF))

    document = services.add_document(
        application=draft,
        kind=DocumentKind.LETTER,
        upload=SimpleUploadedFile("letter.pdf", content),
        by=applicant,
    )

    assert document.size == 10 * 1024 * 1024


def test_an_empty_file_is_refused(applicant_client, draft):
    response = upload(applicant_client, draft, letter=SimpleUploadedFile("letter.pdf", b""))

    assert response.status_code == 200
    assert "“letter.pdf” is empty." in field_errors(response.content.decode(), "letter")
    assert not ApplicationDocument.objects.exists()


def test_an_empty_file_is_refused_with_one_message_naming_it(applicant_client, draft):
    response = upload(applicant_client, draft, letter=SimpleUploadedFile("letter.pdf", b""))

    assert field_errors(response.content.decode(), "letter") == "“letter.pdf” is empty."


def test_documents_past_the_total_for_an_application_are_refused(
    applicant_client, applicant, draft, monkeypatch
):
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(uploads, "MAX_APPLICATION_BYTES", 2500)
    letter = pdf_upload("letter.pdf", PDF + b"0" * (1000 - len(PDF)))
    annex = pdf_upload("annex.pdf", PDF + b"0" * (1000 - len(PDF)))
    one_too_many = pdf_upload("report.pdf", PDF + b"0" * (501 - len(PDF)))

    response = upload(applicant_client, draft, letter=letter, supporting=[annex, one_too_many])

    assert response.status_code == 200
    message = field_errors(response.content.decode(), "supporting")
    assert message.startswith("“report.pdf” would take this application past 2.4 KB")
    assert "(2.0 KB already uploaded)" in message
    assert "Remove a document or send a smaller file." in message
    # Everything within the limit is kept.
    kept = ApplicationDocument.objects.filter(application=draft)
    assert sorted(d.original_name for d in kept) == ["annex.pdf", "letter.pdf"]

    # Exactly up to the total is fine.
    just_fits = pdf_upload("short.pdf", PDF + b"0" * (500 - len(PDF)))
    response = upload(applicant_client, draft, supporting=just_fits)
    assert response.status_code == 302
    assert sum(d.size for d in draft.documents.all()) == 2500


def test_the_letter_being_replaced_does_not_count_against_the_total(applicant, draft, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(uploads, "MAX_APPLICATION_BYTES", 1500)
    services.add_document(
        application=draft,
        kind=DocumentKind.LETTER,
        upload=pdf_upload("first.pdf", PDF + b"0" * (1000 - len(PDF))),
        by=applicant,
    )

    services.add_document(
        application=draft,
        kind=DocumentKind.LETTER,
        upload=pdf_upload("second.pdf", PDF + b"0" * (1000 - len(PDF))),
        by=applicant,
    )

    assert [d.original_name for d in draft.documents.all()] == ["second.pdf"]


@pytest.mark.parametrize(
    ("name", "content", "content_type", "extension"),
    [
        ("Letter.pdf", PDF, "application/pdf", ".pdf"),
        (
            "Lettre signée.docx",
            make_docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
        ),
        ("Letter.odt", make_odt(), "application/vnd.oasis.opendocument.text", ".odt"),
        ("scan.png", make_png(), "image/png", ".png"),
        ("scan.jpeg", JPEG, "image/jpeg", ".jpg"),
    ],
    ids=["pdf", "docx", "odt", "png", "jpeg"],
)
def test_accepted_documents_are_stored_with_the_type_their_content_shows(
    applicant_client, applicant, draft, private_media, name, content, content_type, extension
):
    response = upload(applicant_client, draft, letter=SimpleUploadedFile(name, content))

    assert response.status_code == 302
    document = ApplicationDocument.objects.get(application=draft)
    assert document.kind == DocumentKind.LETTER
    assert document.content_type == content_type
    assert document.original_name == name
    assert document.size == len(content)
    assert document.uploaded_by == applicant
    assert document.file.name.endswith(extension)
    with document.file.open("rb") as stored:
        assert stored.read() == content


def test_the_type_comes_from_the_content_not_the_name(applicant, draft):
    document = services.add_document(
        application=draft,
        kind=DocumentKind.SUPPORTING,
        upload=SimpleUploadedFile("photo.docx", make_png(), content_type="application/msword"),
        by=applicant,
    )

    assert document.content_type == "image/png"
    assert document.file.name.endswith(".png")
    assert document.original_name == "photo.docx"


def test_a_document_is_stored_under_a_generated_name_in_private_storage(
    applicant, draft, private_media, settings
):
    document = services.add_document(
        application=draft,
        kind=DocumentKind.LETTER,
        upload=pdf_upload("Our Secret Letter.pdf"),
        by=applicant,
    )

    name = document.file.name
    assert re.fullmatch(r"applications/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", name), name
    assert "secret" not in name.lower()
    assert "letter" not in name.lower()
    path = private_media / name
    assert path.is_file()
    assert stored_files(private_media) == [path]
    assert not str(path).startswith(str(settings.STATIC_ROOT))


def test_a_path_in_the_file_name_goes_nowhere(applicant, draft, private_media):
    document = services.add_document(
        application=draft,
        kind=DocumentKind.LETTER,
        upload=pdf_upload("../../../../etc/cron.d/letter.pdf"),
        by=applicant,
    )

    assert ".." not in document.file.name
    assert (private_media / document.file.name).is_file()


def test_supporting_documents_are_added_several_at_once(applicant_client, draft):
    files = [pdf_upload("statutes.pdf"), SimpleUploadedFile("report.png", make_png())]

    response = upload(applicant_client, draft, supporting=files)

    assert response.status_code == 302
    documents = ApplicationDocument.objects.filter(application=draft)
    assert sorted((d.kind, d.original_name) for d in documents) == [
        (DocumentKind.SUPPORTING, "report.png"),
        (DocumentKind.SUPPORTING, "statutes.pdf"),
    ]


def test_a_new_letter_replaces_the_old_one_and_its_file(
    applicant_client, draft, private_media, django_capture_on_commit_callbacks
):
    upload(applicant_client, draft, letter=pdf_upload("first draft.pdf"))
    old = ApplicationDocument.objects.get(application=draft)
    old_path = private_media / old.file.name
    assert old_path.is_file()

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(applicant_client, draft, letter=pdf_upload("signed.pdf"))

    assert response.status_code == 302
    new = ApplicationDocument.objects.get(application=draft, kind=DocumentKind.LETTER)
    assert new.original_name == "signed.pdf"
    assert not ApplicationDocument.objects.filter(pk=old.pk).exists()
    assert not old_path.exists()
    assert stored_files(private_media) == [private_media / new.file.name]


def test_the_old_letters_file_stays_until_the_replacement_is_committed(
    applicant, draft, private_media, django_capture_on_commit_callbacks
):
    first = services.add_document(
        application=draft, kind=DocumentKind.LETTER, upload=pdf_upload("one.pdf"), by=applicant
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.add_document(
            application=draft, kind=DocumentKind.LETTER, upload=pdf_upload("two.pdf"), by=applicant
        )
        assert (private_media / first.file.name).is_file()

    assert len(callbacks) == 1


def test_removing_a_document_deletes_its_file_after_commit(
    applicant_client, applicant, draft, private_media, django_capture_on_commit_callbacks
):
    document = services.add_document(
        application=draft,
        kind=DocumentKind.SUPPORTING,
        upload=pdf_upload("annex.pdf"),
        by=applicant,
    )
    path = private_media / document.file.name

    with django_capture_on_commit_callbacks(execute=True):
        response = applicant_client.post(
            reverse("applications:remove_document", args=[draft.pk, document.pk])
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("applications:edit", args=[draft.pk])
    assert not ApplicationDocument.objects.filter(pk=document.pk).exists()
    assert not path.exists()
