"""What a document is, decided by its content, and the size limits on uploads."""

import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_APPLICATION_BYTES = 30 * 1024 * 1024


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str


PDF = FileType("application/pdf", ".pdf")
PNG = FileType("image/png", ".png")
JPEG = FileType("image/jpeg", ".jpg")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")
ODT = FileType("application/vnd.oasis.opendocument.text", ".odt")


def _zip_type(upload: UploadedFile) -> FileType | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if (
                "mimetype" in names
                and archive.read("mimetype").strip() == ODT.content_type.encode()
            ):
                return ODT
            if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
                return DOCX
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    finally:
        upload.seek(0)
    return None


def detect_type(upload: UploadedFile) -> FileType | None:
    """The file's type from its first bytes (and, for DOCX and ODT, its inner structure)."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(upload)
    return None


def check_upload(upload: UploadedFile, *, already_uploaded: int = 0) -> FileType:
    """Refuse an empty, oversized or unaccepted file with a message that says which and why."""
    name = upload.name or _("the file")
    if not upload.size:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="empty")
    if upload.size > MAX_FILE_BYTES:
        raise ValidationError(
            _("“%(name)s” is larger than %(max)s, the most a file may be.")
            % {"name": name, "max": filesizeformat(MAX_FILE_BYTES)},
            code="too_large",
        )
    if already_uploaded + upload.size > MAX_APPLICATION_BYTES:
        raise ValidationError(
            _(
                "“%(name)s” would take this application past %(max)s of documents "
                "(%(used)s already uploaded). Remove a document or send a smaller file."
            )
            % {
                "name": name,
                "max": filesizeformat(MAX_APPLICATION_BYTES),
                "used": filesizeformat(already_uploaded),
            },
            code="application_too_large",
        )
    file_type = detect_type(upload)
    if file_type is None:
        raise ValidationError(
            _("“%(name)s” is not a document we accept. Send a PDF, DOCX, ODT, JPEG or PNG file.")
            % {"name": name},
            code="type",
        )
    return file_type
