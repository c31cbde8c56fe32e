"""What comes back by email: the mail server's reports, and unsubscribing by email.

The Centre's mail server delivers the newsletter's returns into a Maildir that the portal reads
(``NEWSLETTER_INBOUND_MAILDIR``; the beat reads it every five minutes, and
``manage.py process_inbound_mail`` by hand):

- a delivery status notification (RFC 3464: ``multipart/report; report-type=delivery-status``)
  whose recipient ``failed`` with a permanent status (5.x.x) marks that address as bouncing:
  no edition is written to it again. A delay, or a temporary failure (4.x.x), changes nothing;
- a complaint from a mailbox provider's feedback loop (RFC 5965: ``report-type=
  feedback-report``) unsubscribes the address it names: the person called the newsletter spam;
- a message to ``unsubscribe+<token>@…``, the ``mailto:`` of every edition's List-Unsubscribe
  (RFC 2369), unsubscribes the subscriber the signed token names. A changed token does nothing.

Anyone can write a message shaped like a report: a bounce or a complaint counts only when the
message it returns (whole, or its headers) carries the Message-ID of an edition the portal sent
to that address (each has random digits of its own; the outbox keeps them for
OUTBOX_RETENTION_DAYS). A report that quotes none is ignored, and staff can still mark an
address by hand.

Each change is in the subscriber's history, with what the report said. A message is removed
from the Maildir once read (whatever it was), so a second run finds nothing to do. One that
fails on a database error stays for the next run; one the reader cannot make sense of is moved
to the Maildir's ``.failed`` folder, and the others are still read.
"""

import logging
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError

from core.models import OutboxMessage

from . import services, tokens
from .models import Delivery, Subscriber
from .rendering import UNSUBSCRIBE_MAILBOX

log = logging.getLogger(__name__)

_UNSUBSCRIBE_ADDRESS = re.compile(
    rf"^{re.escape(UNSUBSCRIBE_MAILBOX)}\+(?P<token>[^@\s]+)@", re.IGNORECASE
)
# Where a mail server puts the address a message was delivered to, first the most reliable.
_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")


@dataclass
class InboundSummary:
    read: int = 0
    bounced: int = 0
    complaints: int = 0
    unsubscribed: int = 0
    ignored: int = 0
    failed: int = 0


def _field(message: Message, name: str) -> str:
    """A header's value as text, whatever it holds: the parser gives a header with 8-bit bytes
    (a diagnostic in a server's own language) as a Header object, not a string."""
    value = message.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _report_fields(part: Message) -> list[Message]:
    """The field groups of a ``message/delivery-status`` or ``message/feedback-report`` part:
    Python's parser gives each group as a sub-message, or the whole text as one payload."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [group for group in payload if isinstance(group, Message)]
    text = payload if isinstance(payload, str) else ""
    groups = []
    for block in re.split(r"\r?\n\r?\n", text.strip()):
        group = Message()
        for line in re.sub(r"\r?\n[ \t]+", " ", block).splitlines():
            name, colon, value = line.partition(":")
            if colon:
                group[name.strip()] = value.strip()
        groups.append(group)
    return groups


def _address(field: str | None) -> str:
    """The address of a report's ``Final-Recipient: rfc822; someone@example.org``."""
    if not field:
        return ""
    _kind, _semicolon, value = field.rpartition(";")
    return parseaddr(value.strip())[1].lower()


def _permanent_failures(report: Message) -> Iterator[tuple[str, str]]:
    """(address, what the report said) for each recipient that failed for good."""
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for group in _report_fields(part)[1:]:  # the first group is about the message
            action = _field(group, "Action").lower()
            status = _field(group, "Status")
            if action != "failed" or not status.startswith("5"):
                continue
            diagnostic = _field(group, "Diagnostic-Code")
            # The address we sent to is the original recipient, when the report names it (a
            # forward to a dead mailbox fails at the final one); the final one otherwise.
            named = {
                _address(_field(group, "Original-Recipient")),
                _address(_field(group, "Final-Recipient")),
            }
            for address in sorted(named - {""}):
                yield address, f"bounce report: {status} {diagnostic}".strip()


def _complained_addresses(report: Message) -> Iterator[str]:
    """The addresses a feedback-loop complaint is about."""
    for part in report.walk():
        if part.get_content_type() == "message/feedback-report":
            for group in _report_fields(part):
                for name in ("Original-Rcpt-To", "Removal-Recipient"):
                    address = parseaddr(_field(group, name))[1].lower()
                    if address:
                        yield address
        elif part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            # The complained-of message itself: whom we sent it to.
            original = part.get_payload()
            if isinstance(original, list) and original:
                original = original[0]
            if isinstance(original, str):  # text/rfc822-headers: the headers alone
                original = HeaderParser().parsestr(original)
            if isinstance(original, Message):
                for _name, address in getaddresses(
                    [str(to) for to in original.get_all("To") or []]
                ):
                    if address:
                        yield address.lower()


def _returned_message_ids(report: Message) -> set[str]:
    """The Message-ID of the message a report returns, whole or as headers: the first one
    (a report is about one message; a forger does not get to try several in one)."""
    for part in report.walk():
        if part.get_content_type() not in ("message/rfc822", "text/rfc822-headers"):
            continue
        original = part.get_payload()
        if isinstance(original, list) and original:
            original = original[0]
        if isinstance(original, str):
            original = HeaderParser().parsestr(original)
        if isinstance(original, Message):
            message_id = _field(original, "Message-ID")
            return {message_id} if message_id else set()
    return set()


def _sent_by_us(address: str, message_ids: set[str]) -> bool:
    """Whether one of these messages is a copy of an edition the portal sent to ``address``:
    through the subscriber's deliveries (each names its email), by key, not a search of the
    outbox. Every email's Message-ID carries random digits of its own (core.outbox), so one
    copy tells nothing of another's."""
    if not message_ids:
        return False
    sent = OutboxMessage.objects.filter(
        pk__in=Delivery.objects.filter(
            subscriber__in=Subscriber.objects.filter(email__iexact=address), message__isnull=False
        ).values("message")
    ).values_list("to", "headers")
    return any(
        to.lower() == address and (headers or {}).get("Message-ID") in message_ids
        for to, headers in sent.iterator()
    )


def _unsubscribe_token(message: Message) -> str | None:
    for header in _RECIPIENT_HEADERS:
        for _name, address in getaddresses([str(value) for value in message.get_all(header) or []]):
            found = _UNSUBSCRIBE_ADDRESS.match(address.strip())
            if found:
                return found.group("token")
    return None


def _subscribers(address: str) -> list[Subscriber]:
    return list(Subscriber.objects.filter(email__iexact=address))


def handle(message: Message, summary: InboundSummary) -> None:
    """Act on one message: a bounce, a complaint, an unsubscribe by email, or nothing."""
    summary.read += 1
    report_type = str(message.get_param("report-type") or "").lower()
    if message.get_content_type() == "multipart/report" and report_type == "delivery-status":
        returned = _returned_message_ids(message)
        for address, said in _permanent_failures(message):
            if not _sent_by_us(address, returned):
                summary.ignored += 1
                continue
            summary.bounced += services.mark_bouncing(
                subscribers=_subscribers(address), by=None, note=said[:500]
            )
        return
    if message.get_content_type() == "multipart/report" and report_type == "feedback-report":
        returned = _returned_message_ids(message)
        for address in set(_complained_addresses(message)):
            if not _sent_by_us(address, returned):
                summary.ignored += 1
                continue
            for subscriber in _subscribers(address):
                if services.unsubscribe(
                    subscriber=subscriber, note="complaint from the mailbox provider"
                ):
                    summary.complaints += 1
        return
    token = _unsubscribe_token(message)
    named = tokens.subscriber_for(tokens.MANAGE, token) if token else None
    if named is not None:
        if services.unsubscribe(subscriber=named, note="unsubscribed by email"):
            summary.unsubscribed += 1
        return
    summary.ignored += 1


# The Maildir++ folder where messages that could not be read are kept.
FAILED = "failed"


def _set_aside(box: mailbox.Maildir, key: str) -> None:
    """Move the message, as the mail server wrote it, to the ``.failed`` folder. If even that
    fails (no right to make the folder), it is left where it is: the others are still read."""
    try:
        try:
            folder = box.get_folder(FAILED)
        except mailbox.NoSuchMailboxError:
            folder = box.add_folder(FAILED)
        folder.add(box.get_bytes(key))
        box.discard(key)
    except OSError:
        log.exception("newsletter inbound mail: message %s could not be set aside", key)


def process_maildir(path: str | Path | None = None) -> InboundSummary:
    """Read every new message of the Maildir, act on it, and remove it."""
    summary = InboundSummary()
    path = path or settings.NEWSLETTER_INBOUND_MAILDIR
    if not path:
        return summary
    box = mailbox.Maildir(str(path), factory=None, create=False)
    for key in list(box.iterkeys()):
        try:
            message = box.get_message(key)
        except (KeyError, FileNotFoundError):  # another run took it
            continue
        except OSError:  # unreadable here (its rights): a person must look at it
            log.exception("newsletter inbound mail: message %s could not be read", key)
            summary.failed += 1
            continue
        try:
            handle(message, summary)
        except DatabaseError:
            raise  # the database's trouble, not the message's: it stays for the next run
        except Exception:
            # A message the reader cannot make sense of must not stop the others (an
            # unsubscribe waits behind it): it is set aside for a person to look at.
            log.exception("newsletter inbound mail: message %s set aside in .%s", key, FAILED)
            _set_aside(box, key)
            summary.failed += 1
            continue
        box.discard(key)
    if summary.read:
        log.info("newsletter inbound mail: %s", summary)
    return summary
