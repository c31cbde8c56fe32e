"""The staff's panel on the admin's home page: what waits for them in the applications."""

import datetime

from django import template
from django.utils import timezone

from board.models import Ballot

from ..models import Application, Status
from ..services import MOTION_KIND

register = template.Library()

CLOSING_SOON = datetime.timedelta(hours=48)
PANEL_LIMIT = 50


@register.inclusion_tag("admin/applications/staff_todo.html", takes_context=True)
def staff_todo(context) -> dict:
    """Four lists, in two queries whatever their length: applications to check, answers
    received, votes back without a quorum, and the Board's votes closing within 48 hours."""
    user = context["request"].user
    if not user.has_perm("applications.review_application"):
        return {"show": False}
    to_check, answered, no_quorum = [], [], []
    waiting = Application.objects.awaiting_staff().order_by("submitted_at")[: PANEL_LIMIT * 3]
    for application in waiting:
        came_from = getattr(application, "came_from", "")
        if came_from == Status.INFO_REQUESTED:
            answered.append(application)
        elif came_from == Status.WITH_BOARD:
            no_quorum.append(application)
        else:
            to_check.append(application)
    closing = list(
        Ballot.objects.open()
        .filter(kind=MOTION_KIND, deadline__lte=timezone.now() + CLOSING_SOON)
        .order_by("deadline")[:PANEL_LIMIT]
    )
    return {
        "show": True,
        "to_check": to_check[:PANEL_LIMIT],
        "answered": answered[:PANEL_LIMIT],
        "no_quorum": no_quorum[:PANEL_LIMIT],
        "closing": closing,
    }
