"""Every write that changes an organisation's membership or representative."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from board import services as board
from core.emails import absolute_url, send_to_user
from core.locking import lock, lock_name
from core.status import move_status, record_start
from members.models import (
    MEMBERSHIP_MOVES,
    REPRESENTATIVE_MOVES,
    Contact,
    DismissalResponse,
    EndReason,
    Membership,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    Qualification,
    Representative,
    RepresentativeStatus,
    RepresentativeStatusChange,
    yearly_period,
)
from members.signals import announce_joined

HONORARY = "honorary"
HONORARY_PERSON = "honorary_person"
DISMISSAL = "dismissal"


def is_member(holder: Organisation | User) -> bool:
    """Whether the organisation, or the person in their own name, is a member now."""
    field = "person" if isinstance(holder, User) else "organisation"
    return Membership.objects.current().filter(**{field: holder}).exists()


def start_membership(
    *,
    organisation: Organisation | None = None,
    person: User | None = None,
    kind: MembershipKind,
    on: datetime.date,
    by: User | None,
    reason: str,
) -> Membership:
    """Make the organisation (or, for an honorary member, the person) a member from ``on``."""
    holder = organisation if organisation is not None else person
    if holder is None or (organisation is not None and person is not None):
        raise ValueError("A membership is held by an organisation or by a person.")
    with transaction.atomic():
        lock(holder)
        if is_member(holder):
            raise ValidationError(
                _("%(name)s is already a member.") % {"name": str(holder)}, code="member"
            )
        period_start, period_end = yearly_period(on)
        membership = Membership.objects.create(
            organisation=organisation,
            person=person,
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
        if person is not None:
            announce_joined([person.pk])
        else:
            announce_joined(
                [
                    *Representative.objects.current()
                    .filter(organisation=organisation)
                    .values_list("user_id", flat=True),
                    *Contact.objects.current()
                    .filter(organisation=organisation)
                    .values_list("user_id", flat=True),
                ]
            )
    return membership


def end_membership(
    *,
    membership: Membership,
    reason: EndReason,
    note: str,
    on: datetime.date,
    by: User | None,
    tell: bool = True,
) -> Membership:
    """End a current membership, keeping why, when and who.

    ``tell``: email the member (its representatives, or the honorary person) that it ended and
    why; a caller with its own message (a dismissal) passes False.
    """
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
        locked.resigns_at_period_end = False
        locked.save(
            update_fields=["status", "ended_on", "end_reason", "end_note", "resigns_at_period_end"]
        )
        if tell:
            tell_member(
                locked,
                template="members/email/ended",
                context={
                    "reason": locked.get_end_reason_display(),
                    "url": absolute_url(reverse("members:membership")),
                },
                purpose=f"members.ended:{locked.pk}",
            )
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
        if representative.status == RepresentativeStatus.CURRENT:
            announce_joined([user.pk])
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
        announce_joined([locked.user_id])
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
    subject: Organisation | User,
    *,
    kind: str,
    details: str,
    deadline: datetime.datetime,
    by: User,
):
    # Votes before their subject, in the order a deciding vote takes them.
    board.lock_open_ballots_on(subject)
    locked = lock(subject)
    return board.open_ballot(kind=kind, subject=locked, details=details, deadline=deadline, by=by)


def propose_honorary_membership(
    *, organisation: Organisation, details: str, deadline: datetime.datetime, by: User
):
    """Put the appointment of ``organisation`` as an honorary member to the Board's vote."""
    with transaction.atomic():
        return _put_to_the_board(
            organisation, kind=HONORARY, details=details, deadline=deadline, by=by
        )


def propose_honorary_person(*, person: User, details: str, deadline: datetime.datetime, by: User):
    """Put the appointment of ``person``, in their own name, as an honorary member to the vote.

    The person is told only if the Board appoints them (``HonoraryPersonAppointment``).
    """
    with transaction.atomic():
        return _put_to_the_board(
            person, kind=HONORARY_PERSON, details=details, deadline=deadline, by=by
        )


def propose_dismissal(
    *, organisation: Organisation, cause: str, deadline: datetime.datetime, by: User
):
    """Put the dismissal of a member for ``cause`` to the Board's vote.

    The member is told at once, with the cause and the deadline, and may answer in writing
    before the vote closes (``respond_to_dismissal``); the directors read the answer.
    """
    with transaction.atomic():
        ballot = _put_to_the_board(
            organisation, kind=DISMISSAL, details=cause, deadline=deadline, by=by
        )
        membership = organisation.memberships.current().get()
        MembershipEvent.objects.create(
            membership=membership,
            kind=MembershipEventKind.DISMISSAL_PROPOSED,
            by=by,
            note=cause,
        )
        tell_representatives(
            organisation,
            template="members/email/dismissal_proposed",
            context={
                "cause": cause,
                "deadline": ballot.deadline,
                "url": absolute_url(reverse("members:membership")),
            },
            purpose=f"members.dismissal-proposed:{ballot.pk}",
        )
    return ballot


def respond_to_dismissal(*, ballot, organisation: Organisation, by: User, text: str):
    """The member's representative answers a proposed dismissal in writing, before the vote.

    Refused once the vote has closed, and to anyone but the organisation's representative.
    """
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write your response.")})
    with transaction.atomic():
        locked_ballot = lock(ballot)
        if locked_ballot.kind != DISMISSAL or locked_ballot.subject_id != organisation.pk:
            raise PermissionDenied(_("This vote is not about your organisation."))
        if not Representative.objects.current().filter(organisation=organisation, user=by).exists():
            raise PermissionDenied(_("Only the member's representative can answer."))
        if not locked_ballot.is_open or locked_ballot.past_deadline:
            # Past the deadline no director votes any more: no one would read it before the
            # decision.
            raise ValidationError(_("The Board has closed this vote: it is too late to answer."))
        response = DismissalResponse.objects.create(
            ballot=locked_ballot, organisation=organisation, text=text, by=by
        )
        membership = organisation.memberships.current().first()
        if membership is not None:
            MembershipEvent.objects.create(
                membership=membership,
                kind=MembershipEventKind.DISMISSAL_RESPONSE,
                by=by,
                note=text,
            )
    return response


def tell_member(membership: Membership, *, template: str, context: dict, purpose: str) -> None:
    """Email the member: its organisation's current representatives, or the honorary person."""
    context = {"membership": membership, **context}
    if membership.organisation is not None:
        tell_representatives(
            membership.organisation, template=template, context=context, purpose=purpose
        )
    elif membership.person is not None:
        send_to_user(
            template=template,
            user=membership.person,
            context={"organisation": None, **context},
            purpose=purpose,
        )


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
