"""The outbox's own MIME writer (core.mime): the bytes Django's SMTP backend would send, for the
rows it covers, and Django's classes for the others."""

import asyncio
import re
import socket
import threading
from email import message_from_bytes, policy

import pytest
from django.core.mail import BadHeaderError
from django.core.mail.message import sanitize_address

from core import outbox as outbox_service
from core.mime import smtp_bytes
from core.models import OutboxMessage, OutboxStatus
from core.outbox import as_email

from .conftest import SMTP, make_row

pytestmark = pytest.mark.django_db

UNSUBSCRIBE = (
    "<https://portal.cipc-icpc.org/fr/newsletter/unsubscribe/123.AbCdEfGhIjKlMnOpQrStUvWxYz0/>, "
    "<mailto:unsubscribe+123.AbCdEfGhIjKlMnOpQrStUvWxYz0@cipc-icpc.org>"
)
NEWSLETTER_HEADERS = {
    "Message-ID": "<176412345.1234.5678901234567890123@cipc-icpc.org>",
    "List-Unsubscribe": UNSUBSCRIBE,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "List-Id": "ICPC newsletter <newsletter.cipc-icpc.org>",
}


def row(**fields) -> OutboxMessage:
    values = {
        "to": "lecteur.fidele+nouvelles@example.org",
        "subject": "[ICPC] Villes plus sûres : nouvelles du réseau, édition d'automne et d'hiver",
        "body": "Bonjour,\n\nLe réseau grandit : Montréal, Bogotá.\r\nFrom the Board.\r.dot\n",
        "html_body": "<p>Bonjour, <a href='https://example.org/x'>désabonnement</a></p>\n",
        "from_email": "ICPC Portal <portal@cipc-icpc.org>",
        "headers": NEWSLETTER_HEADERS,
        "reply_to": [],
        "attachments": [],
        **fields,
    }
    return OutboxMessage(**values)


def django_bytes(message: OutboxMessage) -> bytes:
    return as_email(message).message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]


def normalized(data: bytes) -> bytes:
    """Boundary and date made alike (each message has its own), and the headers unfolded
    (``core.mime`` folds a long plain one at other spaces than Django's policy does)."""
    data = re.sub(rb"={15}\d{19}==", b"BOUNDARY", data)
    headers, body = data.split(b"\r\n\r\n", 1)
    headers = re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: DATE", headers)
    headers = re.sub(rb": +", b": ", re.sub(rb"\r\n[ \t]+", b" ", headers))
    return headers + b"\r\n\r\n" + body


COVERED = {
    "newsletter in French": {},
    "ASCII only": {"subject": "[ICPC] News", "body": "Plain.\n", "html_body": "<p>Plain.</p>"},
    "plain text only": {"html_body": "", "headers": {"Message-ID": "<1.2@cipc-icpc.org>"}},
    "long ASCII subject": {"subject": "[ICPC] " + "word " * 30},
    "long address": {"to": "a" * 64 + "@" + "sub." * 10 + "example.org"},
    "no trailing newline": {"body": "x", "html_body": "y"},
    "many blank lines": {"body": "a\n\n\n\n", "html_body": "\r\n\r\n"},
    "sender without a name": {"from_email": "portal@cipc-icpc.org"},
    "sender with a non-ASCII name": {
        "from_email": "Portail ICPC – Montréal <portal@cipc-icpc.org>"
    },
}


@pytest.mark.parametrize("fields", COVERED.values(), ids=COVERED.keys())
def test_the_bytes_are_djangos_but_for_the_boundary_and_the_date(fields):
    message = row(**fields)

    data = smtp_bytes(message)

    assert data is not None
    assert normalized(data) == normalized(django_bytes(message))


def test_the_bytes_parse_with_the_personal_headers_and_both_parts_intact():
    message = row()

    parsed = message_from_bytes(smtp_bytes(message) or b"", policy=policy.default)

    assert not parsed.defects
    assert parsed["To"] == message.to
    # Django's policy folds a long subject right after its name, which reads back with a space.
    assert parsed["Subject"].strip() == message.subject
    assert parsed["From"] == message.from_email
    assert parsed["List-Unsubscribe"] == UNSUBSCRIBE
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Message-ID"] == NEWSLETTER_HEADERS["Message-ID"]
    assert parsed["Date"]
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # On the wire every line ends in CRLF, as SMTP wants.
    assert text.get_content() == re.sub(r"\r\n|\r|\n", "\r\n", message.body)
    assert html.get_content() == message.html_body.replace("\n", "\r\n")
    header_block = (smtp_bytes(message) or b"").split(b"\r\n\r\n", 1)[0]
    # Folded between its links (a link longer than a line stays whole, within SMTP's limit).
    assert b"\r\nList-Unsubscribe: <https://" in header_block
    assert b">,\r\n <mailto:unsubscribe+" in header_block
    assert max(len(line) for line in header_block.split(b"\r\n")) <= 998


@pytest.mark.parametrize(
    "value",
    [
        "short",
        "word " * 40 + "end",
        "a" * 120 + " " + "b" * 10,
        "<https://example.org/" + "x" * 100 + "/>, <mailto:someone@example.org>",
    ],
)
def test_a_long_plain_header_is_folded_within_the_line_and_reads_back_unchanged(value):
    message = row(headers={"Message-ID": "<1.2@cipc-icpc.org>", "X-Plain": value})

    data = smtp_bytes(message) or b""

    header_block = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    folded = header_block[header_block.index("X-Plain:") :].split("\r\nList-", 1)[0]
    lines = folded.split("\r\n")
    lines = lines[: next((i for i, line in enumerate(lines[1:], 1) if line[0] != " "), None)]
    # A line over 78 characters is one word too long to fold.
    words = [line.removeprefix("X-Plain:").strip() for line in lines]
    assert all(len(line) <= 78 or " " not in word for line, word in zip(lines, words, strict=True))
    assert message_from_bytes(data, policy=policy.default)["X-Plain"] == value


def test_each_message_has_a_boundary_of_its_own_that_no_part_holds():
    message = row(body="--" + "=" * 15 + "1" * 19 + "==\n")

    first, second = smtp_bytes(message), smtp_bytes(message)

    assert first is not None and second is not None
    boundaries = [re.search(rb'boundary="([^"]+)"', data)[1] for data in (first, second)]  # type: ignore[index]
    assert boundaries[0] != boundaries[1]
    assert first.count(b"--" + boundaries[0]) == 3


@pytest.mark.parametrize(
    "address",
    [
        "a@EXAMPLE.org",
        "First.Last+tag@sub-domain.example.co.uk",
        "o'brien@example.ie",
        "x!#$%&*/=?^_`{|}~-y@example.org",
    ],
)
def test_an_address_it_covers_is_one_django_sends_and_writes_unchanged(address):
    message = row(to=address)

    assert smtp_bytes(message) is not None
    assert sanitize_address(address, "utf-8") == address
    assert normalized(smtp_bytes(message) or b"") == normalized(django_bytes(message))


NOT_COVERED = {
    "attachment": {"attachments": [{"filename": "a.txt", "mimetype": "text/plain", "content": ""}]},
    "reply-to": {"reply_to": ["staff@cipc-icpc.org"]},
    "line over the SMTP limit": {"body": "x" * 999},
    "non-ASCII address": {"to": "zoë@example.org"},
    "address with a name": {"to": "Zoe <zoe@example.org>"},
    "own date": {
        "headers": {"Message-ID": "<1.2@cipc-icpc.org>", "Date": "Mon, 1 Jan 2024 00:00:00 -0000"}
    },
    "own sender": {"headers": {"Message-ID": "<1.2@cipc-icpc.org>", "from": "a@example.org"}},
    "no Message-ID": {"headers": {"List-Id": "ICPC newsletter <newsletter.cipc-icpc.org>"}},
    "HTML only": {"body": ""},
    "lone surrogate": {"body": "\ud800"},
}


@pytest.mark.parametrize("fields", NOT_COVERED.values(), ids=NOT_COVERED.keys())
def test_a_row_it_does_not_cover_is_left_to_django(fields):
    assert smtp_bytes(row(**fields)) is None


def test_a_header_with_a_line_break_is_refused_as_django_refuses_it():
    message = row(
        headers={"Message-ID": "<1.2@cipc-icpc.org>", "List-Id": "x\r\nBcc: victim@example.org"}
    )

    with pytest.raises(BadHeaderError):
        django_bytes(message)
    with pytest.raises(BadHeaderError):
        smtp_bytes(message)


class Sink:
    """An SMTP server that keeps what it accepted: (sender, recipients, bytes)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.lock = threading.Lock()
        self.received: list[tuple[str, list[str], bytes]] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0)
        with self.lock:
            self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        return "250 OK"


@pytest.fixture
def sink(settings):
    server = Sink()
    server.controller.start()
    settings.EMAIL_DELIVERY_BACKEND = SMTP
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield server
    finally:
        server.controller.stop()


def test_rows_go_to_the_smtp_server_as_these_bytes_and_the_others_through_django(outbox, sink):
    covered = make_row(to="a@example.org", html_body="<p>Hello</p>")
    left_to_django = make_row(to="b@example.org", reply_to=["staff@cipc-icpc.org"])

    outcome = outbox_service.deliver_many([covered.pk, left_to_django.pk])

    assert outcome == {covered.pk: True, left_to_django.pk: True}
    received = {recipients[0]: (sender, data) for sender, recipients, data in sink.received}
    assert set(received) == {"a@example.org", "b@example.org"}
    assert {sender for sender, _data in received.values()} == {"portal@cipc-icpc.org"}
    covered.refresh_from_db()
    expected = smtp_bytes(covered)
    assert expected is not None
    assert normalized(received["a@example.org"][1]) == normalized(expected)
    assert message_from_bytes(received["b@example.org"][1])["Reply-To"] == "staff@cipc-icpc.org"
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
