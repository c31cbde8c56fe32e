"""What the Centre's staff do to a membership: the qualification flag, changes of representative."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import access_link, invite_person
from core.emails import absolute_url, send_to_user
from core.locking import lock
from members.models import (
    REPRESENTATIVE_CHANGE_MOVES,
    EndReason,
    Membership,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    Organisation,
    Qualification,
    Representative,
    RepresentativeChange,
    RepresentativeChangeStatus,
)
from members.services import (
    designate_representative,
    end_membership,
    member_organisation_named,
    propose_honorary_membership,
    propose_honorary_person,
    tell_member,
)


def require_staff(user: User) -> None:
    """Only the Centre's staff act on memberships; a director is not staff by being one."""
    if not user.is_centre_staff:
        raise PermissionDenied(_("Only the Centre's staff can do this."))


def flag_not_qualifying(
    *, membership: Membership, by: User, reason: str, end_now: bool
) -> Membership:
    """Record that the member no longer meets the qualifications, and why.

    ``end_now``: the membership ends today. Otherwise it is flagged: it will not renew, and ends
    on its renewal date unless the staff clear the flag before (``clear_not_qualifying``).
    """
    require_staff(by)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the member no longer qualifies.")})
    today = timezone.localdate()
    with transaction.atomic():
        locked = lock(membership)
        if not locked.is_active:
            raise ValidationError(_("This membership has already ended."))
        if end_now:
            return end_membership(
                membership=locked,
                reason=EndReason.NO_LONGER_QUALIFIES,
                note=reason,
                on=today,
                by=by,
            )
        if locked.kind != MembershipKind.GENERAL:
            raise ValidationError(
                {"end_now": _("An honorary membership has no renewal date: it can only end now.")}
            )
        if locked.is_flagged_not_qualifying:
            raise ValidationError(_("This membership is already flagged as no longer qualifying."))
        locked.not_qualifying_since = today
        locked.not_qualifying_reason = reason
        locked.save(update_fields=["not_qualifying_since", "not_qualifying_reason"])
        event = MembershipEvent.objects.create(
            membership=locked, kind=MembershipEventKind.FLAGGED, by=by, note=reason
        )
        tell_member(
            locked,
            template="members/email/flagged",
            context={
                "reason": reason,
                "ends_on": locked.renews_on,
                "url": absolute_url(reverse("members:membership")),
            },
            purpose=f"members.flagged:{event.pk}",
        )
    return locked


def clear_not_qualifying(*, membership: Membership, by: User, note: str) -> Membership:
    """Take the flag off before the renewal date: the membership renews as usual."""
    require_staff(by)
    note = note.strip()
    with transaction.atomic():
        locked = lock(membership)
        if not (locked.is_active and locked.is_flagged_not_qualifying):
            raise ValidationError(_("This membership is not flagged as no longer qualifying."))
        flagged_on = locked.not_qualifying_since
        locked.not_qualifying_since = None
        locked.not_qualifying_reason = ""
        locked.save(update_fields=["not_qualifying_since", "not_qualifying_reason"])
        event = MembershipEvent.objects.create(
            membership=locked, kind=MembershipEventKind.FLAG_CLEARED, by=by, note=note
        )
        tell_member(
            locked,
            template="members/email/flag_cleared",
            context={
                "note": note,
                "flagged_on": flagged_on,
                "renews_on": locked.renews_on,
                "url": absolute_url(reverse("members:membership")),
            },
            purpose=f"members.flag-cleared:{event.pk}",
        )
    return locked


def _decide(change: RepresentativeChange, *, to: str, by: User, note: str) -> RepresentativeChange:
    """Move a pending change (locked) to ``to`` under the table, recording who and when."""
    REPRESENTATIVE_CHANGE_MOVES.check(change.status, to, label=change.get_status_display())
    change.status = to
    change.decided_by = by
    change.decided_at = timezone.now()
    change.decision_note = note
    return change


def _membership_of(change: RepresentativeChange) -> Membership | None:
    return Membership.objects.current().filter(organisation_id=change.organisation_id).first()


def confirm_representative_change(
    *, change: RepresentativeChange, by: User, on: datetime.date | None = None
) -> Representative:
    """The staff checked the qualification: the new person is designated, the old one replaced.

    The new person gets an account if they have none (no email is sent by that) and one email
    saying what it means, with the link to choose a password if the account is new, and that
    they accept on their profile page; until they accept they do not act for the organisation.
    The person replaced loses the organisation's access at once and is told.
    """
    require_staff(by)
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = lock(change)
        if _membership_of(locked) is None:
            raise ValidationError(
                _("The membership has ended: there is no one to designate a representative for.")
            )
        _decide(locked, to=RepresentativeChangeStatus.CONFIRMED, by=by, note="")
        organisation = locked.organisation
        previous = list(
            Representative.objects.standing()
            .filter(organisation=organisation)
            .select_related("user")
        )
        person, _link = invite_person(
            email=locked.email,
            first_name=locked.first_name,
            last_name=locked.last_name,
            language=locked.language,
        )
        representative = designate_representative(
            organisation=organisation,
            user=person,
            title=locked.title,
            qualification=Qualification(locked.qualification),
            on=on,
            by=by,
            accepted=False,
        )
        locked.representative = representative
        locked.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "representative"]
        )
        membership = _membership_of(locked)
        if membership is not None:
            MembershipEvent.objects.create(
                membership=membership,
                kind=MembershipEventKind.REPRESENTATIVE_CHANGE_CONFIRMED,
                by=by,
                note=_("%(name)s, %(title)s") % {"name": person, "title": locked.title},
            )
        link = access_link(person)
        send_to_user(
            template="members/email/designated",
            user=person,
            context={
                "organisation": organisation,
                "representative": representative,
                "access_link": link,
                "profile_url": absolute_url(reverse("accounts:profile")),
            },
            purpose=f"members.designated:{representative.pk}",
            # The link to choose a password signs the person in: staff never see it.
            sensitive=bool(link),
        )
        for old in previous:
            if old.user_id == person.pk:
                continue
            send_to_user(
                template="members/email/replaced",
                user=old.user,
                context={"organisation": organisation, "successor": person},
                purpose=f"members.replaced:{old.pk}",
            )
        told = {person.pk} | {old.user_id for old in previous}
        # Staff who designated the person themselves need no word of their own decision.
        if locked.requested_by_id not in told and locked.requested_by_id != by.pk:
            send_to_user(
                template="members/email/representative_change_confirmed",
                user=locked.requested_by,
                context={"organisation": organisation, "change": locked, "successor": person},
                purpose=f"members.representative-change-confirmed:{locked.pk}",
            )
    return representative


def refuse_representative_change(
    *, change: RepresentativeChange, by: User, note: str
) -> RepresentativeChange:
    """The staff refuse the change, saying why; the person who asked is told."""
    require_staff(by)
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why, for the member.")})
    with transaction.atomic():
        locked = lock(change)
        _decide(locked, to=RepresentativeChangeStatus.REFUSED, by=by, note=note)
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        membership = _membership_of(locked)
        if membership is not None:
            MembershipEvent.objects.create(
                membership=membership,
                kind=MembershipEventKind.REPRESENTATIVE_CHANGE_REFUSED,
                by=by,
                note=note,
            )
        send_to_user(
            template="members/email/representative_change_refused",
            user=locked.requested_by,
            context={
                "organisation": locked.organisation,
                "change": locked,
                "note": note,
                "url": absolute_url(reverse("members:membership")),
            },
            purpose=f"members.representative-change-refused:{locked.pk}",
        )
    return locked


def create_organisation(
    *, name: str, category: str, country: str, city: str, website: str, by: User
) -> Organisation:
    """An organisation the staff add to propose it (an honorary member); it is no member yet."""
    require_staff(by)
    name = name.strip()
    with transaction.atomic():
        existing = member_organisation_named(name, country)
        if existing is not None:
            raise ValidationError(
                {"name": _("%(name)s is already a member.") % {"name": existing.name}}
            )
        return Organisation.objects.create(
            name=name, category=category, country=country, city=city.strip(), website=website
        )


def propose_honorary_appointment(
    *,
    organisation: Organisation | None = None,
    new_organisation: dict[str, str] | None = None,
    person: dict[str, str] | None = None,
    details: str,
    deadline: datetime.datetime,
    by: User,
):
    """The staff put an honorary appointment to the Board: a known organisation, a new one
    (``name``, ``category``, ``country``, ``city``, ``website``), or a person (``email``,
    ``first_name``, ``last_name``, ``language``). The new organisation or the person's account
    is made first, and nothing is sent to them; all of it is undone if the vote cannot open."""
    require_staff(by)
    if sum(x is not None for x in (organisation, new_organisation, person)) != 1:
        raise ValueError("Propose one organisation or one person.")
    with transaction.atomic():
        if person is not None:
            account, _link = invite_person(**person)
            return propose_honorary_person(
                person=account, details=details, deadline=deadline, by=by
            )
        if new_organisation is not None:
            organisation = create_organisation(**new_organisation, by=by)
        assert organisation is not None
        return propose_honorary_membership(
            organisation=organisation, details=details, deadline=deadline, by=by
        )


def designate_for_member(
    *,
    organisation: Organisation,
    by: User,
    first_name: str,
    last_name: str,
    email: str,
    language: str,
    title: str,
    qualification: Qualification,
) -> Representative:
    """The staff designate a representative themselves: for a member with none (an honorary
    organisation just appointed, a designation declined) or on the member's written request.

    The same path as a change the member asks for, confirmed at once by the staff who checked
    the qualification: recorded as asked by them, then confirmed (the person is invited and
    accepts; anyone replaced is told)."""
    require_staff(by)
    with transaction.atomic():
        locked = lock(organisation)
        if RepresentativeChange.objects.pending().filter(organisation=locked).exists():
            raise ValidationError(
                _("The member has asked for a change of representative: confirm or refuse it.")
            )
        change = RepresentativeChange.objects.create(
            organisation=locked,
            requested_by=by,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email.strip().lower(),
            language=language,
            title=title.strip(),
            qualification=qualification,
        )
        return confirm_representative_change(change=change, by=by)
