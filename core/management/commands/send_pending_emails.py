"""Send what the outbox still holds: the job beat runs every minute, by hand.

Without a broker (the embedded default) there is no beat: an email whose first try failed waits
here until this command runs (from cron, say). ``--purge`` also forgets old sent and failed ones.
"""

from django.core.management.base import BaseCommand, CommandParser

from core import outbox


class Command(BaseCommand):
    help = "Send the outbox's pending emails that are due; with --purge, forget old ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--purge",
            action="store_true",
            help="Also delete sent and failed emails older than OUTBOX_RETENTION_DAYS.",
        )

    def handle(self, *args, purge: bool = False, **options) -> None:
        sent = outbox.sweep()
        self.stdout.write(f"{sent} pending email(s) sent.")
        if purge:
            self.stdout.write(f"{outbox.purge()} old email(s) forgotten.")
