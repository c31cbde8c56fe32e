from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="members.renew_memberships")
def renew_memberships() -> dict[str, int]:
    """Renew the memberships due today (daily on the beat; idempotent)."""
    return services.renew_due_memberships(on=timezone.localdate())._asdict()
