"""Send an edition by hand: the same service as the Celery task, with a progress bar."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from newsletter import services
from newsletter.models import DeliveryStatus, Edition, EditionStatus


class Command(BaseCommand):
    help = (
        "Send a newsletter edition now: the one given by its number, or every scheduled edition "
        "that is due and every edition still sending. An edition is sent once to each "
        "subscriber, whoever else sends it at the same time."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("edition", nargs="?", type=int, help="The edition's number.")
        parser.add_argument("--batch-size", type=int, default=services.BATCH_SIZE)

    def handle(self, *args, edition: int | None, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if edition is not None:
            chosen = Edition.objects.filter(pk=edition).first()
            if chosen is None:
                raise CommandError(f"There is no edition {edition}.")
            if chosen.status == EditionStatus.SCHEDULED and (
                chosen.scheduled_at and chosen.scheduled_at > timezone.now()
            ):
                raise CommandError(
                    f"Edition {edition} is scheduled for {chosen.scheduled_at:%Y-%m-%d %H:%M}; "
                    "it is not due yet."
                )
            if chosen.status in (EditionStatus.DRAFT, EditionStatus.SCHEDULED):
                try:
                    services.start_sending(edition=chosen, queue=False)
                except ValidationError as error:
                    raise CommandError(" ".join(error.messages)) from error
            ids = [edition]
        else:
            ids = services.editions_to_send() + list(
                Edition.objects.filter(status=EditionStatus.SENDING).values_list("pk", flat=True)
            )
            ids = list(dict.fromkeys(ids))
        if not ids:
            self.stdout.write("No edition is due.")
        for edition_id in ids:
            current = Edition.objects.get(pk=edition_id)
            if current.status != EditionStatus.SENDING:
                self.stdout.write(f"Edition {edition_id} is {current.get_status_display()}.")
                continue
            todo = current.deliveries.filter(status=DeliveryStatus.PENDING).count()
            with tqdm(total=todo, desc=f"edition {edition_id}", unit="subscriber") as bar:
                summary = services.send_edition(
                    edition_id=edition_id, batch_size=batch_size, budget=None, progress=bar.update
                )
            self.stdout.write(
                f"Edition {edition_id}: written {summary.queued}, sent {summary.sent}, "
                f"skipped {summary.skipped} (unsubscribed meanwhile)"
                + (
                    "; finished."
                    if summary.finished
                    else "; the rest waits for the outbox (retries, or another worker)."
                    if summary.waiting
                    else "; paused."
                )
            )
