"""Read the newsletter's returns by hand: the same service as the beat's task."""

import mailbox

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from newsletter.inbound import process_maildir


class Command(BaseCommand):
    help = (
        "Read the newsletter's Maildir (NEWSLETTER_INBOUND_MAILDIR, or --maildir): bounce "
        "reports mark their addresses as bouncing, complaints and mail to the unsubscribe "
        "addresses unsubscribe. Each message read is removed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--maildir", help="A Maildir other than NEWSLETTER_INBOUND_MAILDIR.")

    def handle(self, *args, maildir: str | None, **options) -> None:
        path = maildir or settings.NEWSLETTER_INBOUND_MAILDIR
        if not path:
            raise CommandError("Set NEWSLETTER_INBOUND_MAILDIR or give --maildir.")
        try:
            summary = process_maildir(path)
        except mailbox.NoSuchMailboxError as error:
            raise CommandError(f"{path} is not a Maildir (cur/, new/ and tmp/).") from error
        self.stdout.write(
            f"{summary.read} messages read: {summary.bounced} addresses now bouncing, "
            f"{summary.complaints} unsubscribed after a complaint, {summary.unsubscribed} "
            f"unsubscribed by email, {summary.ignored} ignored, {summary.failed} set aside "
            "in .failed (unreadable)."
        )
