"""Run the yearly renewal by hand: the same service as the daily Celery job."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from members import services
from members.models import Membership


class Command(BaseCommand):
    help = "Renew every membership due on a date (today by default) for one more year."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="The day to renew for, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; change nothing."
        )
        parser.add_argument("--batch-size", type=int, default=services.RENEWAL_BATCH_SIZE)

    def handle(self, *args, date: str | None, dry_run: bool, batch_size: int, **options) -> None:
        try:
            on = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError as error:
            raise CommandError(f"--date: {error}") from error
        total = Membership.objects.due_for_renewal(on).count()
        with tqdm(total=total, desc="memberships", unit="membership") as bar:
            summary = services.renew_due_memberships(
                on=on, batch_size=batch_size, dry_run=dry_run, progress=bar.update
            )
        prefix = "Dry run, nothing changed: " if dry_run else ""
        self.stdout.write(
            f"{prefix}renewed {summary.renewed}, ended {summary.ended}, skipped {summary.skipped}"
        )
