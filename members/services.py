"""Every write that changes an organisation's membership or representative."""

import datetime

from django.db import transaction

from accounts.models import User

from .models import (
    EndReason,
    Membership,
    MembershipKind,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    Qualification,
    Representative,
    yearly_period,
)


def start_membership(
    *,
    organisation: Organisation,
    kind: MembershipKind,
    on: datetime.date,
    by: User | None,
    reason: str,
) -> Membership:
    """Make the organisation a member from ``on``, for a first yearly period."""
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        period_start, period_end = yearly_period(on)
        membership = Membership.objects.create(
            organisation=organisation,
            kind=kind,
            status=MembershipStatus.ACTIVE,
            started_on=on,
            period_start=period_start,
            period_end=period_end,
        )
        MembershipStatusChange.objects.create(
            membership=membership,
            from_status="",
            to_status=MembershipStatus.ACTIVE,
            changed_by=by,
            reason=reason,
        )
    return membership


def end_membership(
    *,
    membership: Membership,
    reason: EndReason,
    note: str,
    on: datetime.date,
    by: User | None,
) -> Membership:
    """End a current membership, keeping why, when and who."""
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.status != MembershipStatus.ACTIVE:
            raise ValueError("This membership has already ended.")
        locked.status = MembershipStatus.ENDED
        locked.ended_on = on
        locked.end_reason = reason
        locked.end_note = note
        locked.save(update_fields=["status", "ended_on", "end_reason", "end_note"])
        MembershipStatusChange.objects.create(
            membership=locked,
            from_status=MembershipStatus.ACTIVE,
            to_status=MembershipStatus.ENDED,
            changed_by=by,
            reason=f"{EndReason(reason).label}: {note}" if note else str(EndReason(reason).label),
        )
    return locked


def designate_representative(
    *,
    organisation: Organisation,
    user: User,
    title: str,
    qualification: Qualification,
    on: datetime.date,
) -> Representative:
    """Designate ``user`` to act for the organisation, replacing any current representative."""
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        current = Representative.objects.current().filter(organisation=organisation).first()
        if current is not None:
            if current.user_id == user.pk:
                current.title = title
                current.qualification = qualification
                current.save(update_fields=["title", "qualification"])
                return current
            current.ended_on = on
            current.save(update_fields=["ended_on"])
        return Representative.objects.create(
            organisation=organisation,
            user=user,
            title=title,
            qualification=qualification,
            started_on=on,
        )
