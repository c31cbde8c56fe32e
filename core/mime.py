"""An outbox row as the bytes Django's SMTP backend sends, without building Django's email.

``as_email(row).message().as_bytes()`` builds a tree of MIME objects and folds every header
through the ``email`` package, which costs several times what sending the message does. The
batch jobs send thousands of rows that differ in a few headers and their bodies, so
``smtp_bytes`` writes the same bytes directly: the headers in the order Django writes them,
the ones every row of a job shares (From, Subject, List-Id...) folded once by Django's policy
(``email.policy.compat32``, with CRLF) and remembered, a row's own plain ASCII ones (To,
Message-ID, List-Unsubscribe) folded here; the bodies in UTF-8, 7bit or 8bit, as Django
chooses for lines within the SMTP limit.

A row it does not cover returns None, and is sent through Django's classes as before: one with
attachments, a Reply-To, an address that is not plain ASCII, a header that overrides From, To,
Cc, Reply-To or Date, no Message-ID of its own (every row the outbox writes has one), an empty
plain-text body beside HTML, or a line longer than the limit (Django then uses
quoted-printable). tests/core/test_outbox_mime.py checks that the bytes are Django's, but for the
boundary, the date, and where a long plain header is folded.
"""

import functools
import random
import re
import sys
import time
from email import policy
from email.utils import formatdate

from django.conf import settings
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    forbid_multi_line_headers,
    sanitize_address,
)

from .models import OutboxMessage

CRLF = "\r\n"
_POLICY = policy.compat32.clone(linesep=CRLF)
_LINE = 78  # the policy's max_line_length
_NEWLINES = re.compile(r"\r\n|\r|\n")
# An address Django writes as it is (sanitize_address changes nothing): a dot-atom local part
# and an ASCII domain name.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
# A header value the policy writes unchanged when it fits on the line: printable ASCII words
# separated by single spaces.
_PLAIN_VALUE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
# Headers Django sets itself from the message's fields, or that change what it writes.
_OWN_HEADERS = frozenset({"from", "to", "cc", "reply-to", "date"})
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))


def _fold(name: str, value: str) -> bytes:
    """One header as Django's message writes it: checked and encoded by Django, then folded
    by the policy. Raises BadHeaderError for a value with a line break, as Django does."""
    name, value = forbid_multi_line_headers(name, value, settings.DEFAULT_CHARSET)
    if len(name) + 2 + len(value) <= _LINE and _PLAIN_VALUE.fullmatch(value):
        return f"{name}: {value}{CRLF}".encode("ascii")
    return _POLICY.fold_binary(name, value)


@functools.lru_cache(maxsize=256)
def _shared_header(name: str, value: str) -> bytes:
    """A header most rows of a job share (the sender, the subject of an edition in one
    language, List-Id...): folded once."""
    return _fold(name, value)


def _header(name: str, value: str) -> bytes:
    """A row's own header. One of printable ASCII words (a Message-ID, the To address, the
    List-Unsubscribe links) is folded here, as RFC 5322 folds (a line break before a space
    between words, each line within 78 characters where the words allow): Django checks and
    encodes such a value to itself, and its policy takes many times longer to fold it. The
    others (a subject, a name with accents) are Django's, remembered: most rows of a job share
    them."""
    if name.lower() == "subject" or not _PLAIN_VALUE.fullmatch(value):
        return _shared_header(name, value)
    if len(name) + 2 + len(value) <= _LINE:
        return f"{name}: {value}{CRLF}".encode("ascii")
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > _LINE and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return (CRLF.join(lines) + CRLF).encode("ascii")


@functools.lru_cache(maxsize=16)
def envelope_sender(from_email: str) -> str:
    """The address for SMTP's MAIL FROM, as Django's SMTP backend gives it."""
    return sanitize_address(from_email, settings.DEFAULT_CHARSET)


_date_second = -1
_date_header = b""


def _date() -> bytes:
    """The Date header, as Django writes it; made once a second."""
    global _date_second, _date_header  # noqa: PLW0603 - a one-entry cache
    now = int(time.time())
    if now != _date_second:
        _date_header = _fold("Date", formatdate(now, localtime=settings.EMAIL_USE_LOCALTIME))
        _date_second = now
    return _date_header


def _part_headers(subtype: str, data: bytes) -> bytes:
    encoding = "7bit" if data.isascii() else "8bit"
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}MIME-Version: 1.0{CRLF}'
        f"Content-Transfer-Encoding: {encoding}{CRLF}"
    ).encode("ascii")


def _body(text: str) -> bytes | None:
    """The text in UTF-8 with CRLF line ends, or None when a line is over the limit (Django
    then encodes it as quoted-printable) or it cannot be encoded (a lone surrogate)."""
    try:
        # Most texts end their lines with a line feed alone: replaced faster than matched.
        lines = text.replace("\n", CRLF) if "\r" not in text else _NEWLINES.sub(CRLF, text)
        data = lines.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if len(data) > RFC5322_EMAIL_LINE_LENGTH_LIMIT and (
        max(map(len, data.split(b"\r\n"))) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
    ):
        return None
    return data


def _boundary(*parts: bytes) -> str:
    """A boundary as the ``email`` package makes one, that no part contains."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}" + "=="  # noqa: S311 - not a secret
        marker = b"--" + boundary.encode("ascii")
        if not any(marker in part for part in parts):
            return boundary


def smtp_bytes(message: OutboxMessage) -> bytes | None:
    """The row as the bytes Django's SMTP backend would send (boundary and date aside), or
    None when Django's own classes must build it (see the module's docstring)."""
    if message.attachments or message.reply_to or not message.body:
        return None
    if settings.DEFAULT_CHARSET.lower() != "utf-8":
        return None
    if not _PLAIN_ADDRESS.fullmatch(message.to):
        return None
    headers = message.headers or {}
    names = {name.lower() for name in headers}
    if names & _OWN_HEADERS or "message-id" not in names:  # Django would make one up
        return None
    text = _body(message.body)
    html = _body(message.html_body) if message.html_body else b""
    if text is None or html is None:
        return None
    top = [
        _shared_header("Subject", message.subject),
        _shared_header("From", message.from_email),
        _header("To", message.to),
        _date(),
    ]
    top += [_header(name, value) for name, value in headers.items()]
    if not html:
        return b"".join([_part_headers("plain", text), *top, b"\r\n", text])
    boundary = _boundary(text, html)
    delimiter = f"--{boundary}\r\n".encode("ascii")
    return b"".join(
        [
            f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}'.encode(),
            b"MIME-Version: 1.0\r\n",
            *top,
            b"\r\n",
            delimiter,
            _part_headers("plain", text),
            b"\r\n",
            text,
            b"\r\n",
            delimiter,
            _part_headers("html", html),
            b"\r\n",
            html,
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        ]
    )
