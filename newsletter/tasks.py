from celery import shared_task

from . import services


@shared_task(name=services.SEND_TASK)
def send_edition(edition_id: int, batch_size: int = services.BATCH_SIZE) -> dict[str, object]:
    """Send an edition's batches for a while, then queue the next run if some are left. Safe
    twice at once or after a worker died: every delivery and every email is claimed."""
    summary = services.send_edition(edition_id=edition_id, batch_size=batch_size)
    if not summary.finished and not summary.waiting:
        services.continue_later(edition_id)
    return summary._asdict()


@shared_task(name="newsletter.send_due_editions")
def send_due_editions() -> list[int]:
    """Beat, every minute: start the editions scheduled for now, and take over any edition
    whose worker stopped sending (it died)."""
    editions = services.editions_to_send()
    for edition_id in editions:
        send_edition.delay(edition_id)
    return editions


@shared_task(name=services.SYNC_MEMBERS_TASK)
def sync_member_subscribers(people: list[int] | None = None) -> int:
    """Beat, daily: subscribe new representatives and contacts of members (idempotent). With
    ``people`` (account ids), just them: queued as soon as the members app announces that they
    joined (``subscribe_joined``)."""
    return services.sync_member_subscribers(people=people)


@shared_task(name="newsletter.process_inbound_mail")
def process_inbound_mail() -> dict[str, int]:
    """Beat, every five minutes: the mail server's bounce and complaint reports, and
    unsubscribing by email (newsletter.inbound), when NEWSLETTER_INBOUND_MAILDIR is set."""
    from .inbound import process_maildir

    return vars(process_maildir())
