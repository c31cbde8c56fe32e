"""Fixtures for the membership application tests: applications, documents and signed-in people."""

import io
import re
import struct
import zipfile
import zlib
from html import unescape

import pytest

from accounts.models import User
from applications import services
from applications.models import (
    Application,
    DocumentKind,
)
from tests.factories import (  # noqa: F401 - shared with the tests of this folder
    PDF,
    ApplicationFactory,
    SubmittedApplicationFactory,
    UserFactory,
    pdf_upload,
    with_totp,
)

# --- Small but real documents ------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png() -> bytes:
    """A 1x1 white PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


# The start of a JPEG as a camera or scanner writes it: SOI, then a JFIF APP0 segment.
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xdb\x00\x43\x00" + bytes(range(1, 65)) + b"\xff\xd9"
)


def make_docx() -> bytes:
    """A minimal Word document: a zip with [Content_Types].xml and word/document.xml."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"/>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Dear President</w:t></w:r>'
            "</w:p></w:body></w:document>",
        )
    return buffer.getvalue()


def make_odt() -> bytes:
    """A minimal OpenDocument text: ``mimetype`` first and stored, then the content."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.text",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            'opendocument:xmlns:manifest:1.0"/>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr(
            "content.xml",
            '<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:'
            'opendocument:xmlns:office:1.0"/>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return buffer.getvalue()


def make_zip(names: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- Applications ------------------------------------------------------------------------------

COMPLETE = {
    "org_name": "Safer Streets Montréal",
    "org_acronym": "SSM",
    "category": "ngo",
    "country": "CA",
    "city": "Montréal",
    "website": "https://saferstreets.example.org",
    "activities": "Neighbourhood crime prevention and victim support.",
    "rep_first_name": "Amina",
    "rep_last_name": "Diallo",
    "rep_title": "Executive Director",
    "rep_email": "amina.diallo@example.org",
    "rep_phone": "+1 514 555 0100",
    "rep_qualification": "director",
    "rep_declaration": True,
    "motivation": "To learn from other cities and share what our programmes taught us.",
    "agrees_to_statutes": True,
}


def form_data(fields: dict | None = None, **extra) -> dict:
    """What the edit page's form posts for ``fields`` (booleans as checked boxes)."""
    data: dict = {}
    for name, value in {**(fields if fields is not None else COMPLETE), **extra}.items():
        if value is True:
            data[name] = "on"
        elif value is False or value is None:
            continue
        else:
            data[name] = value
    return data


def complete_draft(applicant: User, *, letter: bool = True, **fields) -> Application:
    """A draft with every answer given (and the signed letter), through the services."""
    application = services.start_application(applicant=applicant)
    application = services.save_draft(
        application=application, data={**COMPLETE, **fields}, areas=None
    )
    if letter:
        services.add_document(
            application=application,
            kind=DocumentKind.LETTER,
            upload=pdf_upload("Letter to the President.pdf"),
            by=applicant,
        )
    return application


def submitted_application(applicant: User, **fields) -> Application:
    application = complete_draft(applicant, **fields)
    return services.submit_application(application=application, by=applicant)


# --- Pages -------------------------------------------------------------------------------------


def field_block(html: str, name: str) -> str:
    """The part of the page crispy-forms renders for the field ``name`` (its wrapper)."""
    start = html.find(f'id="div_id_{name}"')
    assert start != -1, f"no field {name!r} on the page"
    start = html.rfind("<", 0, start)
    following = re.compile(r'id="div_id_(?!' + re.escape(name) + r'")')
    after = following.search(html, start + 1)
    end = after.start() if after else len(html)
    # Stop at the end of the fieldset too, so the last field does not swallow the next section.
    fieldset_end = html.find("</fieldset>", start)
    if fieldset_end != -1 and fieldset_end < end:
        end = fieldset_end
    return html[start:end]


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def field_errors(html: str, name: str) -> str:
    """The error messages shown with the field ``name``, as text ('' when there is none)."""
    block = field_block(html, name)
    errors = re.findall(
        r'<(?:div|span|p)[^>]*id="error_\d+_id_'
        + re.escape(name)
        + r'"[^>]*>(.*?)</(?:div|span|p)>',
        block,
        re.S,
    )
    return " ".join(text_of(error) for error in errors)


def input_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    if not tag:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


# --- Fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def applicant_client(client, applicant):
    client.force_login(applicant)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(with_totp(staff_user))
    return client
