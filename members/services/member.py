"""What a member does on the portal: answer a renewal notice, resign, change its representative.

Only the organisation's current (accepted) representative acts for it, and the honorary person
for their own membership; an ended membership refuses every action. Each action keeps who, when
and why (a ``MembershipEvent`` or a status change) and tells the Centre's staff by email.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from core.emails import absolute_url, send_to_user
from core.locking import lock
from members.models import (
    REPRESENTATIVE_CHANGE_MOVES,
    EndReason,
    Membership,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    MembershipQuerySet,
    MembershipStatus,
    Organisation,
    Qualification,
    RenewalAnswer,
    RenewalNotice,
    Representative,
    RepresentativeChange,
    RepresentativeChangeStatus,
    RepresentativeStatus,
)
from members.services import end_membership, tell_member


def memberships_visible_to(user: User) -> MembershipQuerySet:
    """The memberships ``user`` sees on their Membership page.

    Those of the organisations they currently represent, their own honorary membership, and
    the ended memberships of organisations they represented when the membership ended (a former
    member sees what happened). Someone replaced as representative no longer sees the member.
    """
    represents_now = Representative.objects.filter(
        organisation=OuterRef("organisation"), user=user, status=RepresentativeStatus.CURRENT
    )
    represented_at_end = Representative.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=OuterRef("ended_on")),
        organisation=OuterRef("organisation"),
        user=user,
        status__in=[RepresentativeStatus.CURRENT, RepresentativeStatus.ENDED],
        started_on__lte=OuterRef("ended_on"),
    )
    return Membership.objects.filter(
        Q(person=user)
        | (Q(status=MembershipStatus.ACTIVE) & Exists(represents_now))
        | (Q(status=MembershipStatus.ENDED) & Exists(represented_at_end))
    )


def acts_for(membership: Membership, user: User) -> bool:
    """Whether ``user`` acts for the member: its current representative, or the honorary person."""
    if membership.person_id is not None:
        return membership.person_id == user.pk
    organisation_id = membership.organisation_id
    assert organisation_id is not None  # a membership is an organisation's or a person's
    return (
        Representative.objects.current().filter(organisation_id=organisation_id, user=user).exists()
    )


def _check_acts_for(membership: Membership, by: User) -> None:
    if not acts_for(membership, by):
        raise PermissionDenied(_("Only the member's representative can do this."))


def _check_active(membership: Membership) -> None:
    if not membership.is_active:
        raise ValidationError(
            _("This membership ended on %(on)s: nothing more can be changed.")
            % {
                "on": date_format(membership.ended_on, "DATE_FORMAT")
                if membership.ended_on
                else "–"
            },
            code="ended",
        )


def _tell_staff(*, template: str, context: dict, purpose: str) -> None:
    for person in User.objects.centre_staff().distinct():
        send_to_user(template=template, user=person, context=context, purpose=purpose)


def _staff_url(membership: Membership) -> str:
    return absolute_url(reverse("admin:members_membership_change", args=[membership.pk]))


def answer_renewal_notice(
    *, notice: RenewalNotice, by: User | None, confirmed: bool, changes: str = ""
) -> RenewalNotice:
    """The representative answers the notice before renewal: all is right, or what changed.

    ``by`` is None when answered from the emailed link without signing in (the signed link is
    the authority). A notice is answered once; "what changed" is sent to the Centre's staff.
    """
    changes = changes.strip()
    if not confirmed and not changes:
        raise ValidationError({"changes": _("Say what changed.")})
    with transaction.atomic():
        locked = lock(notice)
        membership = Membership.objects.select_related("organisation", "person").get(
            pk=locked.membership_id
        )
        if by is not None:
            _check_acts_for(membership, by)
        if locked.is_answered:
            raise ValidationError(
                _("This notice was already answered (%(answer)s); write to the staff to add to it.")
                % {"answer": locked.get_answer_display()},
                code="answered",
            )
        _check_active(membership)
        if not locked.awaits_answer(timezone.localdate()):
            raise ValidationError(
                _(
                    "This notice no longer needs an answer: the renewal date has passed, or the "
                    "membership ends instead of renewing."
                ),
                code="stale",
            )
        locked.answer = RenewalAnswer.CONFIRMED if confirmed else RenewalAnswer.CHANGES
        locked.changes = "" if confirmed else changes
        locked.answered_at = timezone.now()
        locked.answered_by = by
        locked.save(update_fields=["answer", "changes", "answered_at", "answered_by"])
        MembershipEvent.objects.create(
            membership=membership,
            kind=(
                MembershipEventKind.NOTICE_CONFIRMED
                if confirmed
                else MembershipEventKind.CHANGES_REPORTED
            ),
            by=by,
            note=locked.changes,
        )
        if not confirmed:
            _tell_staff(
                template="members/email/renewal_answered",
                context={
                    "membership": membership,
                    "notice": locked,
                    "changes": locked.changes,
                    "answered_by": by,
                    "url": _staff_url(membership),
                },
                purpose=f"members.renewal-changes:{locked.pk}",
            )
    return locked


def resign_membership(
    *, membership: Membership, by: User, at_period_end: bool, note: str = ""
) -> Membership:
    """The member resigns: at once, or at the end of the current period (taken back until then).

    The staff are told; at the end of the period the representative gets a confirmation saying
    when it takes effect (at once, the email that the membership ended confirms it).
    """
    note = note.strip()
    with transaction.atomic():
        locked = lock(membership)
        _check_acts_for(locked, by)
        _check_active(locked)
        if locked.resigns_at_period_end:
            raise ValidationError(
                _("The member has already resigned with effect at the end of the period."),
                code="resigning",
            )
        if at_period_end and locked.kind != MembershipKind.GENERAL:
            raise ValidationError(
                _("An honorary membership does not renew: a resignation takes effect at once."),
                code="honorary",
            )
        if at_period_end:
            locked.resigns_at_period_end = True
            locked.resignation_note = note
            locked.save(update_fields=["resigns_at_period_end", "resignation_note"])
            event = MembershipEvent.objects.create(
                membership=locked, kind=MembershipEventKind.RESIGNATION, by=by, note=note
            )
            tell_member(
                locked,
                template="members/email/resignation_scheduled",
                context={
                    "ends_on": locked.renews_on,
                    "period_end": locked.period_end,
                    "url": absolute_url(reverse("members:membership")),
                },
                purpose=f"members.resignation-scheduled:{event.pk}",
            )
            purpose = f"members.resignation-staff:{event.pk}"
        else:
            locked = end_membership(
                membership=locked,
                reason=EndReason.RESIGNED,
                note=note,
                on=timezone.localdate(),
                by=by,
            )
            purpose = f"members.resignation-staff:{locked.pk}:ended"
        _tell_staff(
            template="members/email/resignation_staff",
            context={
                "membership": locked,
                "by": by,
                "at_period_end": at_period_end,
                "ends_on": locked.renews_on if at_period_end else locked.ended_on,
                "note": note,
                "url": _staff_url(locked),
            },
            purpose=purpose,
        )
    return locked


def withdraw_resignation(*, membership: Membership, by: User) -> Membership:
    """Take back a resignation at the end of the period, until it takes effect; staff told."""
    with transaction.atomic():
        locked = lock(membership)
        _check_acts_for(locked, by)
        _check_active(locked)
        if not locked.resigns_at_period_end:
            raise ValidationError(_("There is no resignation to take back."), code="not-resigning")
        locked.resigns_at_period_end = False
        locked.resignation_note = ""
        locked.save(update_fields=["resigns_at_period_end", "resignation_note"])
        event = MembershipEvent.objects.create(
            membership=locked, kind=MembershipEventKind.RESIGNATION_WITHDRAWN, by=by
        )
        _tell_staff(
            template="members/email/resignation_withdrawn",
            context={"membership": locked, "by": by, "url": _staff_url(locked)},
            purpose=f"members.resignation-withdrawn:{event.pk}",
        )
    return locked


def change_already_asked(organisation: Organisation) -> ValidationError | None:
    """Why the member cannot ask for a change of representative now: one awaits the staff.
    The page asks before showing the form; the service asks again under the lock."""
    if RepresentativeChange.objects.pending().filter(organisation=organisation).exists():
        return ValidationError(
            _(
                "A change of representative is already awaiting the staff: withdraw it "
                "first to ask for another."
            ),
            code="pending",
        )
    return None


def ask_representative_change(
    *,
    organisation: Organisation,
    by: User,
    first_name: str,
    last_name: str,
    email: str,
    language: str,
    title: str,
    qualification: Qualification,
) -> RepresentativeChange:
    """The member designates a new representative; the staff check the qualification.

    One change waits for the staff at a time; the new person is not the current representative.
    """
    email = email.strip().lower()
    with transaction.atomic():
        locked = lock(organisation)
        membership = Membership.objects.filter(organisation=locked).order_by("-started_on").first()
        if membership is None:
            raise PermissionDenied(_("This organisation is not a member."))
        _check_acts_for(membership, by)
        _check_active(membership)
        current = (
            Representative.objects.current()
            .filter(organisation=locked)
            .select_related("user")
            .first()
        )
        if current is not None and current.user.email.lower() == email:
            raise ValidationError(
                {"email": _("This person is already the representative.")}, code="same-person"
            )
        refusal = change_already_asked(locked)
        if refusal is not None:
            raise refusal
        change = RepresentativeChange(
            organisation=locked,
            requested_by=by,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email,
            language=language,
            title=title.strip(),
            qualification=qualification,
            status=RepresentativeChangeStatus.PENDING,
        )
        REPRESENTATIVE_CHANGE_MOVES.check("", change.status)
        try:
            with transaction.atomic():
                change.save()
        except IntegrityError:
            raise ValidationError(
                _("A change of representative is already awaiting the staff."), code="pending"
            ) from None
        MembershipEvent.objects.create(
            membership=membership,
            kind=MembershipEventKind.REPRESENTATIVE_CHANGE,
            by=by,
            note=_describe(change),
        )
        _tell_staff(
            template="members/email/representative_change_asked",
            context={
                "organisation": locked,
                "change": change,
                "by": by,
                "url": _staff_url(membership),
            },
            purpose=f"members.representative-change-asked:{change.pk}",
        )
    return change


def _describe(change: RepresentativeChange) -> str:
    return _("%(name)s <%(email)s>, %(title)s (%(qualification)s)") % {
        "name": f"{change.first_name} {change.last_name}",
        "email": change.email,
        "title": change.title,
        "qualification": Qualification(change.qualification).label,
    }


def withdraw_representative_change(
    *, change: RepresentativeChange, by: User
) -> RepresentativeChange:
    """The member withdraws a change of representative the staff have not decided yet."""
    with transaction.atomic():
        locked = lock(change)
        membership = (
            Membership.objects.filter(organisation_id=locked.organisation_id)
            .order_by("-started_on")
            .first()
        )
        if membership is None:
            raise PermissionDenied(_("This organisation is not a member."))
        _check_acts_for(membership, by)
        if locked.status != RepresentativeChangeStatus.PENDING:
            raise ValidationError(
                _("The staff have already decided on this change: it can no longer be withdrawn."),
                code="decided",
            )
        REPRESENTATIVE_CHANGE_MOVES.check(locked.status, RepresentativeChangeStatus.WITHDRAWN)
        locked.status = RepresentativeChangeStatus.WITHDRAWN
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        MembershipEvent.objects.create(
            membership=membership,
            kind=MembershipEventKind.REPRESENTATIVE_CHANGE_WITHDRAWN,
            by=by,
            note=_describe(locked),
        )
        _tell_staff(
            template="members/email/representative_change_asked_withdrawn",
            context={
                "organisation": membership.organisation,
                "change": locked,
                "by": by,
                "url": _staff_url(membership),
            },
            purpose=f"members.representative-change-withdrawn:{locked.pk}",
        )
    return locked


__all__ = [
    "acts_for",
    "answer_renewal_notice",
    "ask_representative_change",
    "change_already_asked",
    "memberships_visible_to",
    "resign_membership",
    "withdraw_representative_change",
    "withdraw_resignation",
]
