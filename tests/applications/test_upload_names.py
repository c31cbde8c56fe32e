"""A document's name is the applicant's to choose: it never decides how the file opens once
downloaded, hides nothing, and shows as text wherever it appears."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications import services
from applications.models import ApplicationDocument, DocumentKind
from tests.applications.conftest import (
    JPEG,
    PDF,
    field_block,
    form_data,
    make_docx,
    make_odt,
    make_png,
)

# PDFs and images open in the browser (sandboxed); office documents are saved.
INLINE = {"application/pdf", "image/png", "image/jpeg"}

pytestmark = pytest.mark.django_db

HTML_NAME = "<img src=x onerror=alert(1)>.pdf"
SHOWN_AS_TEXT = "&lt;img src=x onerror=alert(1)&gt;.pdf"


@pytest.fixture
def draft(applicant):
    return services.start_application(applicant=applicant)


def add(draft, applicant, name: str, content: bytes = PDF) -> ApplicationDocument:
    return services.add_document(
        application=draft,
        kind=DocumentKind.SUPPORTING,
        upload=SimpleUploadedFile(name, content),
        by=applicant,
    )


def downloaded_as(client, document: ApplicationDocument) -> tuple[str, str]:
    response = client.get(
        reverse("applications:document", args=[document.application_id, document.pk])
    )
    assert response.status_code == 200
    return response["Content-Disposition"], response["Content-Type"]


@pytest.mark.parametrize(
    ("name", "content", "served_as", "content_type"),
    [
        ("report.html", PDF, "report.pdf", "application/pdf"),
        ("letter.bat", PDF, "letter.pdf", "application/pdf"),
        ("letter.hta", PDF, "letter.pdf", "application/pdf"),
        ("invoice\u202efdp.exe", PDF, "invoicefdp.pdf", "application/pdf"),
        ("\u200estatutes\u202d.pdf\u200f", PDF, "statutes.pdf", "application/pdf"),
        ("letter.pdf.exe", PDF, "letter.pdf.pdf", "application/pdf"),
        ("letter.pdf      .js", PDF, "letter.pdf.pdf", "application/pdf"),
        ("cv.exe", make_docx(), "cv.docx", "application/vnd.openxmlformats-"),
        ("minutes.svg", make_odt(), "minutes.odt", "application/vnd.oasis.opendocument.text"),
        ("photo.docx", make_png(), "photo.png", "image/png"),
        ("scan", JPEG, "scan.jpg", "image/jpeg"),
        ("annual report v1.2", PDF, "annual report v1.2.pdf", "application/pdf"),
        ('a "quoted" name.html', PDF, "a _quoted_ name.pdf", "application/pdf"),
        (".htaccess", PDF, "htaccess.pdf", "application/pdf"),
    ],
    ids=[
        "html",
        "bat",
        "hta",
        "right-to-left-override",
        "bidi-marks",
        "double-extension",
        "padded-extension",
        "docx-as-exe",
        "odt-as-svg",
        "png-as-docx",
        "no-extension",
        "dot-in-the-name",
        "quotes",
        "dot-file",
    ],
)
def test_a_document_is_downloaded_with_the_extension_of_its_content(
    applicant_client, applicant, draft, name, content, served_as, content_type
):
    document = add(draft, applicant, name, content)

    disposition, served_type = downloaded_as(applicant_client, document)

    # PDFs and images open in the browser (sandboxed); office documents are saved.
    opens = "inline" if content_type in INLINE else "attachment"
    assert disposition == f'{opens}; filename="{served_as}"'
    assert served_type.startswith(content_type)


@pytest.mark.parametrize(
    ("name", "content", "served_as"),
    [
        ("Letter.PDF", PDF, 'filename="Letter.PDF"'),
        ("scan.jpeg", JPEG, 'filename="scan.jpeg"'),
        ("Statuts signés.pdf", PDF, "filename*=utf-8''Statuts%20sign%C3%A9s.pdf"),
    ],
    ids=["capitals", "jpeg", "accents"],
)
def test_a_right_extension_is_kept_as_it_was_written(
    applicant_client, applicant, draft, name, content, served_as
):
    document = add(draft, applicant, name, content)

    disposition, _type = downloaded_as(applicant_client, document)

    assert disposition == f"inline; {served_as}"  # PDFs and images open in the browser


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u200estatutes\u202d\u2066.pdf\u200f", "statutes.pdf"),
        ("annual\u200b report\u00ad.pdf", "annual report.pdf"),
        ("letter\x00\x1b[31m.pdf", "letter[31m.pdf"),
        ("line\u2028break\ttab.pdf", "linebreaktab.pdf"),
        ("C:\\Users\\amina\\Letter.pdf", "Letter.pdf"),
        ("  spaced   out .pdf. ", "spaced out .pdf"),
    ],
    ids=["rlo", "bidi-marks", "invisible", "controls", "separators", "windows-path", "spaces"],
)
def test_the_kept_name_has_no_hidden_character_nor_folder(applicant, draft, name, kept):
    document = add(draft, applicant, name)

    assert document.original_name == kept


def test_a_letter_named_with_html_shows_as_text_in_the_edit_pages_help(
    applicant_client, applicant, draft
):
    services.add_document(
        application=draft,
        kind=DocumentKind.LETTER,
        upload=SimpleUploadedFile(HTML_NAME, PDF),
        by=applicant,
    )

    response = applicant_client.get(reverse("applications:edit", args=[draft.pk]))

    html = response.content.decode()
    assert "<img src=x" not in html
    help_text = field_block(html, "letter")
    assert f"Uploaded: “{SHOWN_AS_TEXT}”. Choose a file only to replace it." in help_text


def test_a_name_with_html_shows_as_text_in_messages_errors_and_lists(
    applicant_client, applicant, draft
):
    """Django escapes these already; this keeps it so."""
    document = add(draft, applicant, HTML_NAME)
    edit = reverse("applications:edit", args=[draft.pk])

    refused = applicant_client.post(
        edit,
        form_data(
            {}, action="save", letter=SimpleUploadedFile("<b onmouseover=alert(1)>.pdf", b"MZ")
        ),
    )
    listed = applicant_client.get(edit)
    removed = applicant_client.post(edit, form_data({}, action="save", remove=str(document.pk)))
    removed_page = applicant_client.get(removed["Location"])

    for response in (refused, listed, removed_page):
        html = response.content.decode()
        assert "<img src=x" not in html
        assert "<b onmouseover" not in html
    assert "&lt;b onmouseover=alert(1)&gt;.pdf" in refused.content.decode()
    assert SHOWN_AS_TEXT in listed.content.decode()
    assert f"“{SHOWN_AS_TEXT}” is removed." in removed_page.content.decode()
