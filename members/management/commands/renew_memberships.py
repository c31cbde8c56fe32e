"""Run the daily renewal jobs by hand: the same services as the Celery tasks."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from members.models import Membership
from members.services import renewal


class Command(BaseCommand):
    help = (
        "Run the daily renewal jobs for a date (today by default): first send the renewal "
        "notices of the memberships that renew within thirty days, then renew every general "
        "membership due for one more year, or end it when it is flagged as no longer "
        "qualifying or resigning. Prints how many notices were sent, and how many memberships "
        "were renewed, ended and skipped (still due, held by another run at that moment)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="The day to run for, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be sent, renewed and ended; change nothing.",
        )
        parser.add_argument("--batch-size", type=int, default=renewal.RENEWAL_BATCH_SIZE)

    def handle(self, *args, date: str | None, dry_run: bool, batch_size: int, **options) -> None:
        try:
            on = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError as error:
            raise CommandError(f"--date: {error}") from error
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        prefix = "Dry run, nothing changed: " if dry_run else ""

        total = renewal.coming_up_for_renewal(on).count()
        with tqdm(total=total, desc="renewal notices", unit="membership") as bar:
            sent = renewal.send_renewal_notices(
                on=on, batch_size=batch_size, dry_run=dry_run, progress=bar.update
            )
        self.stdout.write(f"{prefix}renewal notices sent {sent}")

        total = Membership.objects.due_for_renewal(on).count()
        with tqdm(total=total, desc="renewals", unit="membership") as bar:
            summary = renewal.renew_due_memberships(
                on=on, batch_size=batch_size, dry_run=dry_run, progress=bar.update
            )
        self.stdout.write(
            f"{prefix}renewed {summary.renewed}, ended {summary.ended}, "
            f"skipped {summary.skipped} (still due, held by another run)"
        )
        if summary.failed:
            self.stderr.write(
                f"{summary.failed} could not end and stay due: the staff are emailed; "
                "the log says why."
            )
