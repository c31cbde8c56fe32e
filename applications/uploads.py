"""What a document is, decided by its content, and the size limits on uploads.

DOCX and ODT files are zip archives, and an archive may unpack to far more than it weighs: a
1 MB "zip bomb" unpacks to 1 GB. So an archive is judged first on what it declares (how many
entries, how large unpacked, how much they compress), before anything in it is read, and then
from a few bytes of at most two small entries; nothing in it is ever unpacked whole.
"""

import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_APPLICATION_BYTES = 30 * 1024 * 1024

# What a DOCX or ODT may declare. Real documents are far inside these: a few dozen entries (one
# per picture), a central directory of a few kilobytes, pictures that do not compress further
# and XML that compresses 5 to 20 times (~230 for a table of thousands of identical empty rows).
# A bomb is far outside: deflate packs zeros ~1000 to 1.
MAX_ARCHIVE_ENTRIES = 1000
MAX_CENTRAL_DIRECTORY_BYTES = 1024 * 1024  # what zipfile parses into objects when it opens one
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # all entries together: 10 times the largest upload
MAX_RATIO = 400  # unpacked to packed, for an entry unpacking to more than RATIO_FROM_BYTES
RATIO_FROM_BYTES = 1024 * 1024  # small XML parts compress well and can do no harm
MAX_PART_BYTES = 256 * 1024  # the parts the type check reads: mimetype, [Content_Types].xml


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    other_extensions: tuple[str, ...] = ()

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.other_extensions)


PDF = FileType("application/pdf", ".pdf")
PNG = FileType("image/png", ".png")
JPEG = FileType("image/jpeg", ".jpg", (".jpeg",))
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")
ODT = FileType("application/vnd.oasis.opendocument.text", ".odt")
UNKNOWN = FileType("application/octet-stream", ".bin")  # never accepted; for odd stored rows
ACCEPTED_TYPES = {t.content_type: t for t in (PDF, PNG, JPEG, DOCX, ODT)}


def type_for(content_type: str) -> FileType:
    """The accepted type stored as ``content_type`` (UNKNOWN for anything else)."""
    return ACCEPTED_TYPES.get(content_type, UNKNOWN)


# --- File names ----------------------------------------------------------------------------------

# Characters of Unicode's "other" categories (controls, format characters such as the
# right-to-left override U+202E that shows "invoice\u202efdp.exe" as "invoiceexe.pdf", zero-width
# and bidirectional marks, surrogates, private and unassigned code points) and line separators.
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
_EXTENSION = re.compile(r"(?P<stem>.*?)(?P<extension>\.[0-9A-Za-z]{1,10})")
_RESERVED_IN_SAVED_NAMES = re.compile(r'[<>:"|?*]')  # what Windows will not have in a name


def clean_name(name: str) -> str:
    """The name as it is kept and shown: its last path segment, with no control, invisible or
    bidirectional character, single spaces, and no dot or space to start or end it."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _HIDDEN_CATEGORIES)
    name = " ".join(name.split()).strip(" .")
    stem, extension = _split_extension(name)
    return stem[: 255 - len(extension)] + extension


def _split_extension(name: str) -> tuple[str, str]:
    match = _EXTENSION.fullmatch(name)
    if match is None or not any(c.isalpha() for c in match["extension"]):
        return name, ""
    return match["stem"], match["extension"]


def served_name(name: str, file_type: FileType) -> str:
    """The name a document is downloaded under: its cleaned stem and the extension of the type
    its content showed, so that a PDF named "report.html" is saved as "report.pdf"."""
    stem, extension = _split_extension(clean_name(name))
    if extension.lower() not in file_type.extensions:
        extension = file_type.extension
    stem = _RESERVED_IN_SAVED_NAMES.sub("_", stem).strip(" .") or "document"
    return stem[: 255 - len(extension)] + extension


# --- Zip archives --------------------------------------------------------------------------------

UNSAFE_ARCHIVE = "unsafe_archive"
ACTIVE_CONTENT = "active_content"


class ArchiveRefused(Exception):
    """A DOCX or ODT refused for what its archive holds or declares (``code`` says which)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# What runs code when a document is opened: Word's macros (VBA) and ActiveX controls,
# LibreOffice's Basic and script folders, and programs or scripts packed among the parts.
ACTIVE_PARTS = {
    "vbaproject.bin",
    "vbadata.xml",
    "vbaprojectsignature.bin",
    "vbaprojectsignatureagile.bin",
    "vbaprojectsignaturev3.bin",
}
ACTIVE_FOLDERS = {"basic", "scripts", "activex"}
ACTIVE_EXTENSIONS = {
    *("exe", "com", "scr", "pif", "cpl", "dll", "sys", "msi", "msp", "msc", "gadget"),
    *("bat", "cmd", "ps1", "psm1", "psd1", "vb", "vbs", "vbe", "js", "jse", "mjs"),
    *("wsf", "wsh", "wsc", "sct", "hta", "jar", "class", "lnk", "url", "scf", "inf", "reg"),
    *("sh", "py", "pl", "rb", "application", "appref-ms", "xll", "xlam", "xla"),
    *("docm", "dotm", "xlsm", "xltm", "pptm", "potm", "ppsm"),
}
# Content types in a DOCX's [Content_Types].xml that say it carries macros or ActiveX, whatever
# the parts are called: a .docm renamed .docx declares "…macroEnabled.main+xml".
ACTIVE_CONTENT_TYPES = (b"macroenabled", b"vbaproject", b"vbadata", b"activex")

_END_RECORD = struct.Struct("<4s4H2LH")  # end of central directory
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")


def _central_directory(upload: UploadedFile) -> tuple[int, int]:
    """The number of entries and size of the central directory the archive declares.

    Read from the record zipfile will read (the last 22 bytes, or else the last end record
    within a 64 KB comment, then a ZIP64 record if one is pointed to), so that they can be
    checked before zipfile parses the directory into an object per entry.
    """
    size = upload.size or 0
    start = max(size - _END_RECORD.size - 0xFFFF - _ZIP64_LOCATOR.size - _ZIP64_END_RECORD.size, 0)
    upload.seek(start)
    tail = upload.read()
    if len(tail) < _END_RECORD.size:
        raise zipfile.BadZipFile("too short for an archive")
    signature = b"PK\x05\x06"
    end = len(tail) - _END_RECORD.size
    if not (tail[end:].startswith(signature) and tail.endswith(b"\x00\x00")):
        end = tail.rfind(signature)
    if end < 0 or end + _END_RECORD.size > len(tail):
        raise zipfile.BadZipFile("no end of central directory")
    *_, entries, directory_bytes, _offset, _comment = _END_RECORD.unpack_from(tail, end)
    locator = end - _ZIP64_LOCATOR.size
    if locator >= 0 and tail[locator:end].startswith(b"PK\x06\x07"):
        record = locator - _ZIP64_END_RECORD.size
        if record >= 0 and tail[record:locator].startswith(b"PK\x06\x06"):
            fields = _ZIP64_END_RECORD.unpack_from(tail, record)
            entries, directory_bytes = fields[7], fields[8]
    return entries, directory_bytes


def _check_declared(archive: zipfile.ZipFile, size: int) -> bool:
    """Refuse an archive that declares more than a document could; False for one that is no
    document of ours (encrypted, or packed by a method other than stored or deflated)."""
    entries = archive.infolist()
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise ArchiveRefused(UNSAFE_ARCHIVE)
    if sum(e.compress_size for e in entries) > size:  # entries overlapping to unpack again
        raise ArchiveRefused(UNSAFE_ARCHIVE)
    if sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
        raise ArchiveRefused(UNSAFE_ARCHIVE)
    for entry in entries:
        if entry.flag_bits & 0x1 or entry.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            return False
        # Packed data longer than any stored or deflated form of the declared size hides more
        # than it declares, and zipfile, asked for a whole entry, unpacks all it is given.
        if entry.compress_size > entry.file_size + entry.file_size // 1000 + 64:
            raise ArchiveRefused(UNSAFE_ARCHIVE)
        if entry.file_size > RATIO_FROM_BYTES and (
            entry.file_size > MAX_RATIO * entry.compress_size
        ):
            raise ArchiveRefused(UNSAFE_ARCHIVE)
    return True


def _read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A small entry; one declaring more than MAX_PART_BYTES is refused unread. The read is
    bounded too: zipfile unpacks no more than it is asked for, a few kilobytes at a time."""
    if info.file_size > MAX_PART_BYTES:
        raise ArchiveRefused(UNSAFE_ARCHIVE)
    with archive.open(info) as part:
        return part.read(MAX_PART_BYTES)


def _check_inactive(archive: zipfile.ZipFile, file_type: FileType) -> None:
    """Refuse a document that carries macros, ActiveX controls, programs or scripts."""
    for name in archive.namelist():
        *folders, base = name.lower().rstrip("/").split("/")
        extension = base.rpartition(".")[2] if "." in base else ""
        if base in ACTIVE_PARTS or extension in ACTIVE_EXTENSIONS:
            raise ArchiveRefused(ACTIVE_CONTENT)
        if ACTIVE_FOLDERS.intersection(folders) or (name.endswith("/") and base in ACTIVE_FOLDERS):
            raise ArchiveRefused(ACTIVE_CONTENT)
    if file_type == DOCX:
        declared = _read_part(archive, archive.getinfo("[Content_Types].xml")).lower()
        if any(marker in declared for marker in ACTIVE_CONTENT_TYPES):
            raise ArchiveRefused(ACTIVE_CONTENT)


def _zip_type(upload: UploadedFile) -> FileType | None:
    """ODT or DOCX from the archive's structure; ArchiveRefused for one that is not safe."""
    try:
        entries, directory_bytes = _central_directory(upload)
        if entries > MAX_ARCHIVE_ENTRIES or directory_bytes > MAX_CENTRAL_DIRECTORY_BYTES:
            raise ArchiveRefused(UNSAFE_ARCHIVE)
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            if not _check_declared(archive, upload.size or 0):
                return None
            names = set(archive.namelist())
            file_type = None
            if "mimetype" in names and (
                _read_part(archive, archive.getinfo("mimetype")).strip()
                == ODT.content_type.encode()
            ):
                file_type = ODT
            elif "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
                file_type = DOCX
            if file_type is not None:
                _check_inactive(archive, file_type)
            return file_type
    except (zipfile.BadZipFile, zlib.error, struct.error, OSError, EOFError, KeyError):
        return None
    except (NotImplementedError, RuntimeError, ValueError):  # what zipfile cannot or will not open
        return None
    finally:
        upload.seek(0)


def detect_type(upload: UploadedFile) -> FileType | None:
    """The file's type from its first bytes (and, for DOCX and ODT, its inner structure).

    Raises ArchiveRefused for a DOCX or ODT that is not safe to keep.
    """
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
    """Refuse an empty, oversized, unaccepted or unsafe file with a message that says which
    and why.

    The upload's name is cleaned first (see clean_name), so that the messages, and the name
    kept for the document, show no hidden character and no folder.
    """
    upload.name = clean_name(upload.name or "")
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
    try:
        file_type = detect_type(upload)
    except ArchiveRefused as refused:
        if refused.code == ACTIVE_CONTENT:
            message = _(
                "“%(name)s” contains macros or programs, which we do not accept. Save it "
                "without them, or as a PDF, and send it again."
            )
        else:
            message = _(
                "“%(name)s” is packed in a way we cannot open safely: it declares far more "
                "data or parts than a document of its size holds. Save it again, or as a "
                "PDF, and send it again."
            )
        raise ValidationError(message % {"name": name}, code=refused.code) from None
    if file_type is None:
        raise ValidationError(
            _("“%(name)s” is not a document we accept. Send a PDF, DOCX, ODT, JPEG or PNG file.")
            % {"name": name},
            code="type",
        )
    return file_type
