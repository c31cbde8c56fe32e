from celery import shared_task

from . import services


@shared_task(name="board.send_vote_reminders")
def send_vote_reminders() -> int:
    """Remind directors who have not voted when a deadline is near (idempotent)."""
    return services.send_vote_reminders()
