"""Core's Celery tasks: the email outbox's (each app keeps its tasks in its tasks.py)."""

from celery import shared_task

from . import outbox


@shared_task(name=outbox.DELIVER_TASK)
def deliver_email(message_id: int) -> bool:
    """Send one outbox row, queued after the commit that wrote it. A second delivery of the
    task (acks_late, a worker lost) sends nothing: the row is claimed in the database."""
    return outbox.deliver(message_id=message_id)


@shared_task(name="core.sweep_outbox")
def sweep_outbox(rows: int | None = None) -> int:
    """Beat, every minute: send what is still pending (the broker or mail server was down).
    Also queued by the batch jobs after each commit, for the ``rows`` they wrote."""
    return outbox.sweep(rows=rows)


@shared_task(name="core.purge_outbox")
def purge_outbox() -> int:
    """Beat, daily: forget sent and failed emails past the retention period."""
    return outbox.purge()
