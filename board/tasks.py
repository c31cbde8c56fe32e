from celery import shared_task

from . import services


@shared_task(name="board.send_vote_reminders")
def send_vote_reminders() -> int:
    """Remind directors who have not voted when a deadline is near (idempotent)."""
    return services.send_vote_reminders()


@shared_task(name="board.close_overdue_ballots")
def close_overdue_ballots() -> int:
    """Close the votes whose deadline has passed (every few minutes on the beat; idempotent)."""
    return services.close_overdue_ballots()
