"""Every write that changes an organisation's membership or representative."""

import datetime
from collections import defaultdict
from collections.abc import Callable
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from board import services as board
from core.emails import send_to_user
from core.locking import lock, lock_name
from core.status import move_status, record_start

from .models import (
    MEMBERSHIP_MOVES,
    REPRESENTATIVE_MOVES,
    EndReason,
    Membership,
    MembershipKind,
    MembershipRenewal,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    Qualification,
    Representative,
    RepresentativeStatus,
    RepresentativeStatusChange,
    yearly_period,
)

HONORARY = "honorary"
DISMISSAL = "dismissal"


def is_member(organisation: Organisation) -> bool:
    return Membership.objects.current().filter(organisation=organisation).exists()


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
        lock(organisation)
        if is_member(organisation):
            raise ValidationError(
                _("%(name)s is already a member.") % {"name": organisation.name}, code="member"
            )
        period_start, period_end = yearly_period(on)
        membership = Membership.objects.create(
            organisation=organisation,
            kind=kind,
            status=MembershipStatus.ACTIVE,
            started_on=on,
            period_start=period_start,
            period_end=period_end,
        )
        record_start(
            membership,
            transitions=MEMBERSHIP_MOVES,
            history=MembershipStatusChange,
            by=by,
            note=reason,
            membership=membership,
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
        locked = lock(membership)
        label = str(EndReason(reason).label)
        move_status(
            locked,
            to=MembershipStatus.ENDED,
            transitions=MEMBERSHIP_MOVES,
            history=MembershipStatusChange,
            by=by,
            note=f"{label}: {note}" if note else label,
            membership=locked,
        )
        locked.ended_on = on
        locked.end_reason = reason
        locked.end_note = note
        locked.save(update_fields=["status", "ended_on", "end_reason", "end_note"])
    return locked


def designate_representative(
    *,
    organisation: Organisation,
    user: User,
    title: str,
    qualification: Qualification,
    on: datetime.date,
    by: User | None = None,
    accepted: bool = True,
) -> Representative:
    """Designate ``user`` to act for the organisation, replacing any current representative.

    ``accepted=False`` when the person has not said yes yet: the designation waits for them
    (``accept_designation``) and they do not act for the organisation until they accept.
    """
    described = _("%(title)s (%(qualification)s)") % {
        "title": title,
        "qualification": Qualification(qualification).label,
    }
    with transaction.atomic():
        lock(organisation)
        current = Representative.objects.standing().filter(organisation=organisation).first()
        if current is not None:
            same_person = current.user_id == user.pk
            move_status(
                current,
                to=current.status if same_person else RepresentativeStatus.ENDED,
                transitions=REPRESENTATIVE_MOVES,
                history=RepresentativeStatusChange,
                by=by,
                note=_("Now %(what)s") % {"what": described} if same_person else "",
                representative=current,
            )
            if same_person:
                current.title = title
                current.qualification = qualification
                current.save(update_fields=["title", "qualification"])
                return current
            current.ended_on = on
            current.save(update_fields=["status", "ended_on"])
        representative = Representative.objects.create(
            organisation=organisation,
            user=user,
            title=title,
            qualification=qualification,
            status=RepresentativeStatus.CURRENT if accepted else RepresentativeStatus.PROPOSED,
            started_on=on,
        )
        record_start(
            representative,
            transitions=REPRESENTATIVE_MOVES,
            history=RepresentativeStatusChange,
            by=by,
            note=described,
            representative=representative,
        )
    return representative


def _own_open_designation(representative: Representative, by: User) -> Representative:
    """The designation, locked, if ``by`` is the person designated and it awaits their answer."""
    locked = lock(representative)
    if locked.user_id != by.pk:
        raise PermissionDenied(_("Only the person designated can answer the designation."))
    if not locked.awaits_acceptance:
        raise ValidationError(_("This designation is no longer awaiting your answer."))
    return locked


def accept_designation(*, representative: Representative, by: User) -> Representative:
    """The designated person says yes: from now on they act for the organisation."""
    with transaction.atomic():
        locked = _own_open_designation(representative, by)
        move_status(
            locked,
            to=RepresentativeStatus.CURRENT,
            transitions=REPRESENTATIVE_MOVES,
            history=RepresentativeStatusChange,
            by=by,
            note=_("Accepted the designation."),
            representative=locked,
        )
        locked.save(update_fields=["status"])
    return locked


def decline_designation(*, representative: Representative, by: User, note: str = "") -> None:
    """The designated person says no: the designation ends and the staff are told."""
    with transaction.atomic():
        locked = _own_open_designation(representative, by)
        move_status(
            locked,
            to=RepresentativeStatus.ENDED,
            transitions=REPRESENTATIVE_MOVES,
            history=RepresentativeStatusChange,
            by=by,
            note=_("Declined the designation. %(note)s") % {"note": note.strip()},
            representative=locked,
        )
        locked.ended_on = timezone.localdate()
        locked.save(update_fields=["status", "ended_on"])
        for person in User.objects.centre_staff():
            send_to_user(
                template="members/email/designation_declined",
                user=person,
                context={
                    "representative": locked,
                    "organisation": locked.organisation,
                    "note": note.strip(),
                },
                purpose=f"members.designation-declined:{locked.pk}",
            )


def member_organisation_named(name: str, country: str) -> Organisation | None:
    """The current member of that name in that country, if there is one."""
    return (
        Organisation.objects.filter(
            name__iexact=name.strip(),
            country=country,
            memberships__in=Membership.objects.current(),
        )
        .order_by("pk")
        .first()
    )


def admit_organisation(
    *,
    name: str,
    category: str,
    country: str,
    city: str,
    website: str,
    description: str,
    representative: User,
    title: str,
    qualification: Qualification,
    on: datetime.date,
    by: User | None,
    reason: str,
    representative_accepted: bool = True,
) -> Membership:
    """Make a new general member: its organisation, its membership and its representative.

    Refuses, with a message staff can act on, when a member of that name in that country
    exists already.
    """
    with transaction.atomic():
        # Two approvals of the same organisation at the same moment: the second waits, then
        # sees the first's member.
        lock_name(f"members.admission:{country}:{name.strip().lower()}")
        existing = member_organisation_named(name, country)
        if existing is not None:
            raise ValidationError(
                _("%(name)s is already a member.") % {"name": existing.name}, code="member"
            )
        organisation = Organisation.objects.create(
            name=name,
            category=category,
            country=country,
            city=city,
            website=website,
            description=description,
        )
        membership = start_membership(
            organisation=organisation,
            kind=MembershipKind.GENERAL,
            on=on,
            by=by,
            reason=reason,
        )
        designate_representative(
            organisation=organisation,
            user=representative,
            title=title,
            qualification=qualification,
            on=on,
            by=by,
            accepted=representative_accepted,
        )
    return membership


def _put_to_the_board(
    organisation: Organisation, *, kind: str, details: str, deadline: datetime.datetime, by: User
):
    with transaction.atomic():
        # Votes before the organisation, in the order a deciding vote takes them.
        board.lock_open_ballots_on(organisation)
        locked = lock(organisation)
        return board.open_ballot(
            kind=kind, subject=locked, details=details, deadline=deadline, by=by
        )


def propose_honorary_membership(
    *, organisation: Organisation, details: str, deadline: datetime.datetime, by: User
):
    """Put the appointment of ``organisation`` as an honorary member to the Board's vote."""
    return _put_to_the_board(organisation, kind=HONORARY, details=details, deadline=deadline, by=by)


def propose_dismissal(
    *, organisation: Organisation, cause: str, deadline: datetime.datetime, by: User
):
    """Put the dismissal of a member for ``cause`` to the Board's vote."""
    return _put_to_the_board(organisation, kind=DISMISSAL, details=cause, deadline=deadline, by=by)


def tell_representatives(
    organisation: Organisation, *, template: str, context: dict, purpose: str
) -> None:
    """Email each current representative of the organisation, in their language."""
    representatives = Representative.objects.current().filter(organisation=organisation)
    for representative in representatives.select_related("user"):
        send_to_user(
            template=template,
            user=representative.user,
            context={"organisation": organisation, **context},
            purpose=purpose,
        )


class RenewalSummary(NamedTuple):
    renewed: int
    ended: int
    skipped: int


RENEWAL_BATCH_SIZE = 500


def renew_due_memberships(
    *,
    on: datetime.date,
    batch_size: int = RENEWAL_BATCH_SIZE,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
) -> RenewalSummary:
    """Renew every membership due on ``on`` for one more year (the yearly job; idempotent).

    Batch by batch, each in one transaction: lock the due rows no other run holds
    (``SKIP LOCKED``), move their period a year on, record the renewals and queue the
    confirmations. A row moved is no longer due, so running twice, or in two workers at once,
    renews each period once; a run that dies between batches leaves the next run the rest.
    A membership more than a year behind is renewed period by period, one record each.
    """
    due = Membership.objects.due_for_renewal(on)
    if dry_run:
        count = due.count()
        if progress is not None:
            progress(count)
        return RenewalSummary(renewed=count, ended=0, skipped=0)
    renewed = 0
    while True:
        done = _renew_batch(due, batch_size)
        if not done:
            break
        renewed += done
        if progress is not None:
            progress(done)
    # Memberships flagged as no longer qualifying end on their renewal date instead (a later
    # step of issue 8): they will be counted as ended, and those left alone as skipped.
    return RenewalSummary(renewed=renewed, ended=0, skipped=0)


def _renew_batch(due, batch_size: int) -> int:
    with transaction.atomic():
        claimed = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", "period_end")[:batch_size]
        )
        if not claimed:
            return 0
        by_end: dict[datetime.date, list[int]] = defaultdict(list)
        for pk, period_end in claimed:
            by_end[period_end].append(pk)
        renewals = []
        for old_end, pks in by_end.items():
            start, end = yearly_period(old_end + datetime.timedelta(days=1))
            # Only rows still at that period move: the lock holds them, the condition says so.
            moved = Membership.objects.filter(pk__in=pks, period_end=old_end).update(
                period_start=start, period_end=end
            )
            if moved != len(pks):
                raise RuntimeError("A claimed membership moved under its lock.")
            renewals += [
                MembershipRenewal(membership_id=pk, period_start=start, period_end=end, by=None)
                for pk in pks
            ]
        MembershipRenewal.objects.bulk_create(renewals)
        memberships = Membership.objects.filter(pk__in=[pk for pk, _end in claimed])
        for membership in memberships.select_related("organisation").order_by("pk"):
            tell_representatives(
                membership.organisation,
                template="members/email/renewed",
                context={
                    "membership": membership,
                    "period_start": membership.period_start,
                    "period_end": membership.period_end,
                },
                purpose=f"members.renewed:{membership.pk}:{membership.period_start.isoformat()}",
            )
    return len(claimed)
