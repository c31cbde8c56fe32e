"""The staff's panel on the admin's home page: what waits for them in the applications and in
the memberships."""

import datetime

from django import template
from django.utils import timezone

from board.models import Ballot
from members.models import Membership, RenewalNotice, RepresentativeChange

from ..models import Application, Status
from ..services import MOTION_KIND

register = template.Library()

CLOSING_SOON = datetime.timedelta(hours=48)
# Renewal notices not answered, and resignations taking effect, within this many days.
DUE_SOON = datetime.timedelta(days=30)
PANEL_LIMIT = 50


def _applications() -> dict:
    """Applications to check, answers received, votes back without a quorum, and the Board's
    votes closing within 48 hours: two queries whatever their length."""
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
        "to_check": to_check[:PANEL_LIMIT],
        "answered": answered[:PANEL_LIMIT],
        "no_quorum": no_quorum[:PANEL_LIMIT],
        "closing": closing,
    }


def _memberships() -> dict:
    """Renewal notices not answered with the renewal within 30 days, changes of representative
    waiting for the staff, resignations taking effect within 30 days, and members flagged as no
    longer qualifying, and renewals the daily job missed: five queries whatever their length."""
    today = timezone.localdate()
    soon = today + DUE_SOON
    current = Membership.objects.current().select_related("organisation", "person")
    return {
        # The daily job renews a membership on its renewal date: one still due a day later
        # means the job did not run, or failed. It must not go unnoticed.
        "overdue_renewals": list(
            Membership.objects.due_for_renewal(today - datetime.timedelta(days=1))
            .select_related("organisation", "person")
            .order_by("period_end", "pk")[:PANEL_LIMIT]
        ),
        "unanswered_notices": list(
            RenewalNotice.objects.awaiting_answer(today)
            .filter(renews_on__lte=soon)
            .select_related("membership__organisation", "membership__person")
            .order_by("renews_on", "pk")[:PANEL_LIMIT]
        ),
        "pending_changes": list(
            RepresentativeChange.objects.pending()
            .select_related("organisation")
            .order_by("requested_at", "pk")[:PANEL_LIMIT]
        ),
        "resigning": list(
            current.filter(resigns_at_period_end=True, period_end__lt=soon).order_by(
                "period_end", "pk"
            )[:PANEL_LIMIT]
        ),
        "flagged": list(
            current.filter(not_qualifying_since__isnull=False).order_by("period_end", "pk")[
                :PANEL_LIMIT
            ]
        ),
    }


@register.inclusion_tag("admin/applications/staff_todo.html", takes_context=True)
def staff_todo(context) -> dict:
    """The applications part for the staff who review them; the memberships part for the
    Centre's staff."""
    user = context["request"].user
    reviews = user.has_perm("applications.review_application")
    manages_members = bool(getattr(user, "is_centre_staff", False))
    if not (reviews or manages_members):
        return {"show": False}
    return {
        "show": True,
        "reviews": reviews,
        "manages_members": manages_members,
        **(_applications() if reviews else {}),
        **(_memberships() if manages_members else {}),
    }
