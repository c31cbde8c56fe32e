"""What comes back by email (newsletter.inbound): a bounce report marks the address as bouncing,
a complaint and mail to an edition's unsubscribe address unsubscribe, and nothing else changes
anyone. Each message is read once."""

import mailbox
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from newsletter import inbound, tasks
from newsletter.inbound import process_maildir
from newsletter.models import Subscriber, SubscriberStatus
from tests.factories import EditionFactory, SubscriberFactory
from tests.newsletter.conftest import send_now

pytestmark = pytest.mark.django_db


def bounce(
    address: str,
    message_id: str,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    final: str | None = None,
) -> str:
    """A delivery status notification as Postfix writes it (RFC 3464)."""
    return f"""From: MAILER-DAEMON@mail.example.net (Mail Delivery System)
To: portal@cipc-icpc.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="B0UND"

--B0UND
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B0UND
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.net
X-Postfix-Queue-ID: 4Q2xyz
Arrival-Date: Thu, 26 Nov 2026 09:00:00 +0000 (UTC)

Final-Recipient: rfc822; {final or address}
Original-Recipient: rfc822;{address}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 {status} <{address}>: Recipient address
    rejected: User unknown in virtual mailbox table

--B0UND
Content-Type: text/rfc822-headers

From: ICPC Portal <portal@cipc-icpc.org>
To: {address}
Subject: [ICPC] Spring news
Message-ID: {message_id}

--B0UND--
"""


def complaint(address: str, message_id: str) -> str:
    """A mailbox provider's feedback-loop report (RFC 5965), with the message complained of."""
    return f"""From: fbl@provider.example
To: portal@cipc-icpc.org
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="FBL"

--FBL
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--FBL
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ProviderFBL/1.0
Version: 1

--FBL
Content-Type: message/rfc822

From: ICPC Portal <portal@cipc-icpc.org>
To: {address}
Subject: [ICPC] Spring news
Message-ID: {message_id}

Hello.

--FBL--
"""


@pytest.fixture
def maildir(tmp_path):
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(str(path), create=True)
    box.path = path  # type: ignore[attr-defined]
    return box


def status(address: str) -> str:
    return Subscriber.objects.get(email=address).status


def sent_to(outbox, *addresses: str) -> dict[str, str]:
    """Send an edition to these subscribers: the Message-ID each one's copy carries."""
    for address in addresses:
        SubscriberFactory(email=address)
    send_now(EditionFactory())
    return {message.to[0]: message.extra_headers["Message-ID"] for message in outbox}


def test_a_permanent_failure_marks_the_address_as_bouncing_with_what_the_report_said(
    outbox, maildir
):
    ids = sent_to(outbox, "gone@example.net", "fine@example.net")
    maildir.add(bounce("Gone@Example.net", ids["gone@example.net"]))

    summary = process_maildir(maildir.path)

    assert (summary.read, summary.bounced) == (1, 1)
    assert status("gone@example.net") == SubscriberStatus.BOUNCING
    assert status("fine@example.net") == SubscriberStatus.SUBSCRIBED
    change = Subscriber.objects.get(email="gone@example.net").status_changes.last()
    assert change.to_status == SubscriberStatus.BOUNCING
    assert "5.1.1" in change.note and "User unknown" in change.note
    # Read once: the message is gone, and a second run changes nothing.
    assert len(maildir) == 0
    assert process_maildir(maildir.path).read == 0


def test_a_delay_or_a_temporary_failure_changes_nothing(outbox, maildir):
    ids = sent_to(outbox, "slow@example.net")
    maildir.add(
        bounce("slow@example.net", ids["slow@example.net"], action="delayed", status="4.4.1")
    )
    maildir.add(bounce("slow@example.net", ids["slow@example.net"], status="4.2.2"))

    summary = process_maildir(maildir.path)

    assert (summary.read, summary.bounced) == (2, 0)
    assert status("slow@example.net") == SubscriberStatus.SUBSCRIBED


def test_a_complaint_unsubscribes_the_address_it_is_about(outbox, maildir):
    ids = sent_to(outbox, "angry@example.net")
    maildir.add(complaint("angry@example.net", ids["angry@example.net"]))

    summary = process_maildir(maildir.path)

    assert summary.complaints == 1
    assert status("angry@example.net") == SubscriberStatus.UNSUBSCRIBED
    assert (
        "complaint" in Subscriber.objects.get(email="angry@example.net").status_changes.last().note
    )


def unsubscribe_mailto(message) -> str:
    targets = [
        part.strip().strip("<>") for part in message.extra_headers["List-Unsubscribe"].split(",")
    ]
    return next(target for target in targets if target.startswith("mailto:")).removeprefix(
        "mailto:"
    )


def test_mail_to_an_edition_unsubscribe_address_unsubscribes_that_subscriber_only(outbox, maildir):
    SubscriberFactory(email="leaving@example.net")
    SubscriberFactory(email="staying@example.net")
    send_now(EditionFactory())
    sent = next(message for message in outbox if message.to == ["leaving@example.net"])
    address = unsubscribe_mailto(sent)
    maildir.add(f"From: leaving@example.net\nTo: {address}\nSubject: unsubscribe\n\nunsubscribe\n")

    summary = process_maildir(maildir.path)

    assert summary.unsubscribed == 1
    assert status("leaving@example.net") == SubscriberStatus.UNSUBSCRIBED
    assert status("staying@example.net") == SubscriberStatus.SUBSCRIBED


def test_a_changed_token_or_an_ordinary_message_changes_nobody(outbox, maildir):
    subscriber = SubscriberFactory(email="target@example.net")
    send_now(EditionFactory())
    address = unsubscribe_mailto(outbox[0])
    local, _at, domain = address.partition("@")
    forged = f"unsubscribe+{subscriber.pk}.forgedsignature@{domain}"
    maildir.add(f"From: prankster@example.org\nTo: {forged}\nSubject: x\n\nx\n")
    maildir.add(
        "From: someone@example.org\nTo: portal@cipc-icpc.org\nSubject: Hello\n\nA question.\n"
    )

    summary = process_maildir(maildir.path)

    assert (summary.read, summary.ignored) == (2, 2)
    assert status("target@example.net") == SubscriberStatus.SUBSCRIBED


def test_the_beat_task_and_the_command_read_the_configured_maildir(outbox, settings, maildir):
    ids = sent_to(outbox, "gone@example.net", "gone2@example.net")
    settings.NEWSLETTER_INBOUND_MAILDIR = str(maildir.path)
    maildir.add(bounce("gone@example.net", ids["gone@example.net"]))
    assert tasks.process_inbound_mail()["bounced"] == 1

    maildir.add(bounce("gone2@example.net", ids["gone2@example.net"]))
    out = StringIO()
    call_command("process_inbound_mail", stdout=out)
    assert "1 messages read: 1 addresses now bouncing" in out.getvalue()

    with pytest.raises(CommandError, match="not a Maildir"):
        call_command("process_inbound_mail", "--maildir", str(maildir.path / "missing"))
    settings.NEWSLETTER_INBOUND_MAILDIR = ""
    with pytest.raises(CommandError, match="Set NEWSLETTER_INBOUND_MAILDIR"):
        call_command("process_inbound_mail")


def test_a_report_about_a_message_the_portal_did_not_send_there_changes_nobody(outbox, maildir):
    ids = sent_to(outbox, "victim@example.net", "other@example.net")
    # Forged: no message of ours, one of ours to someone else, one made up.
    maildir.add(bounce("victim@example.net", ""))
    maildir.add(bounce("victim@example.net", ids["other@example.net"]))
    maildir.add(complaint("victim@example.net", "<made-up@cipc-icpc.org>"))

    summary = process_maildir(maildir.path)

    assert (summary.read, summary.bounced, summary.complaints) == (3, 0, 0)
    assert status("victim@example.net") == SubscriberStatus.SUBSCRIBED


def test_another_copy_of_the_same_edition_tells_nothing_of_a_neighbour_message_id(outbox, maildir):
    ids = sent_to(outbox, "attacker@example.net", "victim@example.net")
    own = ids["attacker@example.net"]
    # Every Message-ID a forger could derive from their own copy: each number in it moved by a
    # little (the rows of one batch were once numbered in order under one shared stem).
    guesses = set()
    for found in re.finditer(r"\d+", own):
        for step in (-3, -2, -1, 1, 2, 3):
            number = int(found.group()) + step
            if number >= 0:
                guesses.add(own[: found.start()] + str(number) + own[found.end() :])
    for guess in sorted(guesses):
        maildir.add(bounce("victim@example.net", guess))

    summary = process_maildir(maildir.path)

    assert summary.read == len(guesses) and summary.bounced == 0
    assert status("victim@example.net") == SubscriberStatus.SUBSCRIBED


def test_a_report_in_the_server_own_8bit_language_is_read(outbox, maildir):
    ids = sent_to(outbox, "parti@example.net")
    report = bounce("parti@example.net", ids["parti@example.net"]).replace(
        "User unknown in virtual mailbox table", "Boîte inconnue"
    )
    maildir.add(report.encode("latin-1"))

    summary = process_maildir(maildir.path)

    assert summary.bounced == 1 and summary.failed == 0
    assert status("parti@example.net") == SubscriberStatus.BOUNCING


def test_a_message_the_reader_cannot_handle_is_set_aside_and_the_others_are_read(
    outbox, maildir, monkeypatch
):
    ids = sent_to(outbox, "leaving@example.net", "gone@example.net")
    maildir.add("From: x@example.org\nTo: portal@cipc-icpc.org\nSubject: poison\n\nx\n")
    maildir.add(bounce("gone@example.net", ids["gone@example.net"]))
    real = inbound.handle

    def choking(message, summary):
        if message["Subject"] == "poison":
            raise ValueError("cannot make sense of it")
        return real(message, summary)

    monkeypatch.setattr(inbound, "handle", choking)

    summary = process_maildir(maildir.path)

    assert (summary.failed, summary.bounced) == (1, 1)
    assert status("gone@example.net") == SubscriberStatus.BOUNCING
    assert len(maildir) == 0
    assert [kept["Subject"] for kept in maildir.get_folder(inbound.FAILED)] == ["poison"]


def test_a_bounce_at_the_end_of_a_forward_counts_for_the_address_we_sent_to(outbox, maildir):
    ids = sent_to(outbox, "forwards@example.net")
    maildir.add(
        bounce("forwards@example.net", ids["forwards@example.net"], final="dead@old.example")
    )

    summary = process_maildir(maildir.path)

    assert summary.bounced == 1
    assert status("forwards@example.net") == SubscriberStatus.BOUNCING


def test_a_second_run_at_once_reads_each_message_once(outbox, maildir, monkeypatch):
    """Two readers (the beat's and the command) list the same messages: a message the other has
    already taken is passed over, and the same report twice marks the address once."""
    ids = sent_to(outbox, "gone@example.net", "fine@example.net")
    taken = maildir.add(bounce("gone@example.net", ids["gone@example.net"]))
    maildir.add(bounce("gone@example.net", ids["gone@example.net"]))  # the server sent it twice
    real = mailbox.Maildir.get_message

    def other_run_took_it_first(box, key):
        if key == taken:
            box.discard(key)  # the other reader has read and removed it meanwhile
        return real(box, key)

    monkeypatch.setattr(mailbox.Maildir, "get_message", other_run_took_it_first)

    summary = process_maildir(maildir.path)

    assert (summary.read, summary.bounced, summary.failed) == (1, 1, 0)
    assert status("gone@example.net") == SubscriberStatus.BOUNCING
    assert len(maildir) == 0
    # The report again, later: nothing more to mark.
    maildir.add(bounce("gone@example.net", ids["gone@example.net"]))
    assert process_maildir(maildir.path).bounced == 0
    statuses = Subscriber.objects.get(email="gone@example.net").status_changes
    assert statuses.filter(to_status=SubscriberStatus.BOUNCING).count() == 1
