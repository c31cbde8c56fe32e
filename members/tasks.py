from celery import shared_task
from django.utils import timezone

from .services import renewal


@shared_task(name="members.renew_memberships")
def renew_memberships(batch_size: int = renewal.RENEWAL_BATCH_SIZE) -> dict[str, int]:
    """Renew (or end) the memberships due today (daily on the beat; idempotent)."""
    return renewal.renew_due_memberships(on=timezone.localdate(), batch_size=batch_size)._asdict()


@shared_task(name="members.send_renewal_notices")
def send_renewal_notices(batch_size: int = renewal.RENEWAL_BATCH_SIZE) -> int:
    """Send the notices of the memberships renewing within thirty days (daily; idempotent)."""
    return renewal.send_renewal_notices(on=timezone.localdate(), batch_size=batch_size)
