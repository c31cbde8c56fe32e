"""DOCX and ODT are zip archives: one that would unpack to far more than it weighs (a zip bomb),
or that carries macros or programs, is refused, and the check itself never unpacks much."""

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications import services
from applications.models import ApplicationDocument, DocumentKind
from tests.applications.conftest import field_errors, form_data, make_docx, make_odt

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ODT_TYPE = b"application/vnd.oasis.opendocument.text"
GIGABYTE = 1024 * 1024 * 1024
UNSAFE = (
    "is packed in a way we cannot open safely: it declares far more data or parts than a "
    "document of its size holds. Save it again, or as a PDF, and send it again."
)
ACTIVE = (
    "contains macros or programs, which we do not accept. Save it without them, or as a PDF, "
    "and send it again."
)
CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


@pytest.fixture
def draft(applicant):
    return services.start_application(applicant=applicant)


# --- Archives written byte by byte, so that a bomb takes a second and a megabyte to make -------


@dataclass
class Entry:
    name: str
    data: bytes  # as it lies in the archive
    size: int  # the unpacked size it declares
    crc: int
    method: int = zipfile.ZIP_DEFLATED


def stored(name: str, content: bytes) -> Entry:
    return Entry(name, content, len(content), zlib.crc32(content), zipfile.ZIP_STORED)


def deflated(name: str, content: bytes) -> Entry:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Entry(name, packer.compress(content) + packer.flush(), len(content), zlib.crc32(content))


def bomb(name: str, prefix: bytes, size: int) -> Entry:
    """``prefix`` then zeros up to ``size`` bytes, deflated: one packed megabyte repeated (a full
    flush makes each piece stand alone), ending with an empty final block."""
    megabyte = bytes(1 << 20)
    first_chunk = prefix + megabyte[len(prefix) :]
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(first_chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = packer.compress(megabyte) + packer.flush(zlib.Z_FULL_FLUSH)
    count = size // len(megabyte)
    crc = zlib.crc32(first_chunk)
    for _ in range(count - 1):
        crc = zlib.crc32(megabyte, crc)
    return Entry(name, first + piece * (count - 1) + b"\x03\x00", count * len(megabyte), crc)


def raw_zip(entries: list[Entry], *, aliases: dict[str, str] | None = None) -> bytes:
    """A zip of ``entries``; ``aliases`` adds directory entries pointing at an entry's data."""
    local, central, offsets = b"", b"", {}
    rows = [(e.name, e) for e in entries]
    for entry in entries:
        name = entry.name.encode()
        offsets[entry.name] = len(local)
        local += struct.pack(
            "<4s5H3L2H",
            *(b"PK\x03\x04", 20, 0, entry.method, 0, 0x21, entry.crc),
            *(len(entry.data), entry.size, len(name), 0),
        )
        local += name + entry.data
    by_name = {e.name: e for e in entries}
    rows += [(alias, by_name[target]) for alias, target in (aliases or {}).items()]
    for name_text, entry in rows:
        name = name_text.encode()
        central += struct.pack(
            "<4s6H3L5H2L",
            *(b"PK\x01\x02", 20, 20, 0, entry.method, 0, 0x21, entry.crc),
            *(len(entry.data), entry.size, len(name), 0, 0, 0, 0, 0, offsets[entry.name]),
        )
        central += name
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(rows), len(rows), len(central), len(local), 0
    )
    return local + central + end


def docx_with(
    *extra: Entry, content_types: bytes = CONTENT_TYPES, aliases: dict[str, str] | None = None
) -> bytes:
    return raw_zip(
        [
            deflated("[Content_Types].xml", content_types),
            deflated("word/document.xml", b"<w:document/>"),
            *extra,
        ],
        aliases=aliases,
    )


def odt_with(*extra: Entry) -> bytes:
    return raw_zip(
        [
            stored("mimetype", ODT_TYPE),
            deflated("META-INF/manifest.xml", b"<manifest:manifest/>"),
            deflated("content.xml", b"<office:document-content/>"),
            *extra,
        ]
    )


# --- Zip bombs ---------------------------------------------------------------------------------

BOMBS = {
    # The entry the ODT check reads, declaring its gigabyte honestly.
    "odt-mimetype": lambda: raw_zip(
        [bomb("mimetype", ODT_TYPE, GIGABYTE), deflated("content.xml", b"<x/>")]
    ),
    # The same, declaring only the 39 bytes of the type: zipfile, asked for the whole entry,
    # unpacks all the data it was given before cutting it to the declared size.
    "odt-mimetype-declaring-39-bytes": lambda: raw_zip(
        [
            Entry("mimetype", bomb("mimetype", ODT_TYPE, GIGABYTE).data, 39, zlib.crc32(ODT_TYPE)),
            deflated("content.xml", b"<x/>"),
        ]
    ),
    # The entry the DOCX check reads for macros.
    "docx-content-types": lambda: raw_zip(
        [
            bomb("[Content_Types].xml", CONTENT_TYPES, GIGABYTE),
            deflated("word/document.xml", b"<w:document/>"),
        ]
    ),
    # An entry no check reads.
    "docx-document": lambda: docx_with(bomb("word/media/image1.png", b"", GIGABYTE)),
}

CHECK_IN_A_PROCESS_OF_ITS_OWN = """
import json, os, sys
import django
django.setup()
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from applications.uploads import check_upload

with open(sys.argv[1], "rb") as file:
    upload = UploadedFile(file, name=sys.argv[2], size=os.path.getsize(sys.argv[1]))
    try:
        check_upload(upload)
        outcome, message = "accepted", ""
    except ValidationError as error:
        outcome, message = error.code, " ".join(error.messages)
# This process's own peak resident memory. (getrusage's ru_maxrss would not do: Linux carries
# into it the peak of the process this one was started from, here the test runner.)
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "message": message, "peak_mb": peak_kb / 1024}))
"""


@pytest.mark.parametrize("make", BOMBS.values(), ids=BOMBS.keys())
def test_a_zip_bomb_is_refused_without_unpacking_it(tmp_path, make):
    content = make()
    assert len(content) < 2 * 1024 * 1024  # a gigabyte, packed
    path = tmp_path / "letter.odt"
    path.write_bytes(content)

    # Peak memory is read in a process of its own, which does nothing else.
    run = subprocess.run(
        [sys.executable, "-c", CHECK_IN_A_PROCESS_OF_ITS_OWN, str(path), "letter.odt"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "icpc_portal.settings"},
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "unsafe_archive", result
    assert result["message"] == f"“letter.odt” {UNSAFE}"
    assert result["peak_mb"] < 200, result


def test_a_zip_bomb_is_refused_next_to_the_letter_field(applicant_client, draft, private_media):
    upload = SimpleUploadedFile("letter.odt", BOMBS["odt-mimetype"]())

    response = applicant_client.post(
        reverse("applications:edit", args=[draft.pk]),
        form_data({}, action="save", letter=upload),
    )

    assert response.status_code == 200
    assert field_errors(response.content.decode(), "letter") == f"“letter.odt” {UNSAFE}"
    assert not ApplicationDocument.objects.exists()
    assert not [p for p in private_media.rglob("*") if p.is_file()]


def many_entries(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(count):
            archive.writestr(f"word/media/{number}.png", b"")
    return buffer.getvalue()


DECLARING_TOO_MUCH = {
    "too-many-entries": lambda: many_entries(1000),
    "huge-central-directory": lambda: docx_with(
        *(stored(f"word/media/{n:04}{'x' * 2000}.png", b"") for n in range(600))
    ),
    "entry-past-the-ratio": lambda: docx_with(bomb("word/media/image1.png", b"", 20 << 20)),
    "overlapping-entries": lambda: docx_with(
        deflated("word/media/image1.png", os.urandom(100_000)),
        aliases={f"word/media/copy{n}.png": "word/media/image1.png" for n in range(50)},
    ),
    "entry-packing-more-than-it-declares": lambda: docx_with(
        Entry("word/styles.xml", deflated("x", bytes(10 << 20)).data, 20, zlib.crc32(b"0" * 20))
    ),
    "oversized-content-types": lambda: raw_zip(
        [
            deflated("[Content_Types].xml", CONTENT_TYPES + b" " * (300 * 1024)),
            deflated("word/document.xml", b"<w:document/>"),
        ]
    ),
}


@pytest.mark.parametrize("make", DECLARING_TOO_MUCH.values(), ids=DECLARING_TOO_MUCH.keys())
def test_an_archive_declaring_more_than_a_document_holds_is_refused(applicant, draft, make):
    with pytest.raises(ValidationError) as refused:
        services.add_document(
            application=draft,
            kind=DocumentKind.LETTER,
            upload=SimpleUploadedFile("letter.docx", make()),
            by=applicant,
        )

    assert refused.value.messages == [f"“letter.docx” {UNSAFE}"]
    assert not ApplicationDocument.objects.exists()


# Word's XML for a table row with two empty cells: thousands of them pack ~230 to 1.
EMPTY_ROW = (
    b'<w:tr w:rsidR="00A1B2C3" w:rsidTr="00D4E5F6"><w:tc><w:tcPr><w:tcW w:w="4675" '
    b'w:type="dxa"/></w:tcPr><w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3"/></w:tc><w:tc>'
    b'<w:tcPr><w:tcW w:w="4675" w:type="dxa"/></w:tcPr><w:p w:rsidR="00A1B2C3" '
    b'w:rsidRDefault="00A1B2C3"/></w:tc></w:tr>'
)
REAL_DOCUMENTS = {
    "docx-with-pictures": lambda: docx_with(
        *(deflated(f"word/media/image{n}.jpg", os.urandom(200_000)) for n in range(40))
    ),
    "docx-with-many-parts": lambda: many_entries(990),
    "docx-with-a-long-empty-table": lambda: docx_with(
        deflated("word/header1.xml", EMPTY_ROW * 20_000)
    ),
    "odt-with-deflated-mimetype": lambda: raw_zip(
        [deflated("mimetype", ODT_TYPE), deflated("content.xml", b"<x/>")]
    ),
    "word-docx": make_docx,
    "libreoffice-odt": make_odt,
}


@pytest.mark.parametrize("make", REAL_DOCUMENTS.values(), ids=REAL_DOCUMENTS.keys())
def test_real_documents_are_within_the_limits(applicant, draft, make):
    document = services.add_document(
        application=draft,
        kind=DocumentKind.LETTER,
        upload=SimpleUploadedFile("letter.docx", make()),
        by=applicant,
    )

    assert document.content_type in (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
    )


# --- Macros and programs -----------------------------------------------------------------------

ACTIVE_DOCUMENTS = {
    "docx-vba-project": lambda: docx_with(deflated("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")),
    "docm-renamed": lambda: docx_with(
        deflated("word/macros.bin", b"\xd0\xcf\x11\xe0"),
        content_types=CONTENT_TYPES.replace(
            b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
        ),
    ),
    "docx-activex": lambda: docx_with(deflated("word/activeX/activeX1.xml", b"<ax:ocx/>")),
    "docx-with-exe": lambda: docx_with(deflated("word/embeddings/setup.exe", b"MZ\x90\x00")),
    "docx-with-bat": lambda: docx_with(deflated("word/Letter.BAT", b"del /q *")),
    "docx-with-js": lambda: docx_with(deflated("customXml/run.js", b"alert(1)")),
    "docx-with-hta": lambda: docx_with(deflated("word/a.hta", b"<script>")),
    "odt-basic": lambda: odt_with(deflated("Basic/Standard/Module1.xml", b"<script:module/>")),
    "odt-scripts": lambda: odt_with(deflated("Scripts/python/run.py", b"import os")),
    "odt-with-vbs": lambda: odt_with(deflated("Pictures/payload.vbs", b"MsgBox 1")),
}


@pytest.mark.parametrize("make", ACTIVE_DOCUMENTS.values(), ids=ACTIVE_DOCUMENTS.keys())
def test_documents_carrying_macros_or_programs_are_refused(applicant, draft, make):
    with pytest.raises(ValidationError) as refused:
        services.add_document(
            application=draft,
            kind=DocumentKind.SUPPORTING,
            upload=SimpleUploadedFile("statutes.docx", make()),
            by=applicant,
        )

    assert refused.value.messages == [f"“statutes.docx” {ACTIVE}"]
    assert not ApplicationDocument.objects.exists()


def test_a_document_with_macros_is_refused_next_to_its_field(applicant_client, draft):
    upload = SimpleUploadedFile("Lettre.odt", ACTIVE_DOCUMENTS["odt-basic"]())

    response = applicant_client.post(
        reverse("applications:edit", args=[draft.pk]),
        form_data({}, action="save", letter=upload),
    )

    assert response.status_code == 200
    assert field_errors(response.content.decode(), "letter") == f"“Lettre.odt” {ACTIVE}"
    assert not ApplicationDocument.objects.exists()
