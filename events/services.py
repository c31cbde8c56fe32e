"""Registrations for the Centre's events: seats, fees, the waitlist, payments and the door.

Every write that touches an event's seats holds the event's row lock first (``_lock_event``)
and the registration's after it, always in that order, so registrations, cancellations and
promotions of one event run one after the other, and no two can give the same seat. The
database says the same twice over: ``seats_taken`` may never pass the capacity, and a person
has one active registration per event.

The fee is decided here, from the person's standing on the day the seat is given
(``events.fees``): when someone on the waitlist gets a seat, they pay what they qualify for
then, and their email says so.
"""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.emails import absolute_url, send_templated_email
from core.locking import lock
from core.pagecache import Generation
from core.status import move_status, record_start

from .calendar import event_calendar
from .fees import Fee, NoFee, basis_of, decide_fee, is_member_now, member_standing
from .models import (
    EVENT_MOVES,
    REGISTRATION_MOVES,
    Event,
    EventKind,
    EventStatus,
    EventStatusChange,
    FeeTier,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
)

# The public event pages: every change of an event, a fee or the seats left retires them.
EVENT_PAGES = Generation("events")

# What the registration form may set; everything else (fee, status, organisation) is decided here.
ATTENDEE_FIELDS = (
    "first_name",
    "last_name",
    "job_title",
    "organisation_name",
    "dietary_needs",
    "accessibility_needs",
    "listed",
)


def _lock_event(event: Event) -> Event:
    """The seat lock: the event's row, fresh, held until the transaction ends."""
    return lock(event)


def _seats_left(event: Event) -> int | None:
    """Seats left on the locked event (None: no limit)."""
    return event.seats_left


def _take_seat(event: Event) -> None:
    Event.objects.filter(pk=event.pk).update(seats_taken=F("seats_taken") + 1)
    event.seats_taken += 1


def _free_seat(event: Event) -> None:
    Event.objects.filter(pk=event.pk, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    event.seats_taken = max(event.seats_taken - 1, 0)


def _apply_fee(registration: Registration, fee: Fee, *, currency: str) -> None:
    registration.fee_tier = fee.tier
    registration.fee_name = fee.name
    registration.amount = fee.amount
    registration.fee_basis = fee.basis
    registration.currency = currency
    registration.member_organisation = fee.organisation


def _no_fee_message(event: Event, refusal: NoFee) -> str:
    if refusal.members_only:
        return _(
            "This event is open to members of the Centre in good standing only: their "
            "representatives and the contacts they add."
        )
    return _("Registration fees for this event are not available today: please contact the Centre.")


def _check_registration_open(event: Event, now: datetime.datetime) -> None:
    if event.status == EventStatus.CANCELLED:
        raise ValidationError(_("This event has been cancelled."), code="cancelled")
    if not event.registration_open(now):
        raise ValidationError(_("Registration for this event is closed."), code="closed")


def _check_meeting_registration(event: Event, user: User) -> None:
    if event.parent_id is None or not event.requires_parent_registration:
        return
    registered = (
        Registration.objects.confirmed().filter(event_id=event.parent_id, user=user).exists()
    )
    if not registered:
        raise ValidationError(
            _(
                "This visit is for those registered to %(meeting)s: register to the meeting "
                "first (a place on its waitlist is not enough)."
            )
            % {"meeting": event.parent},
            code="meeting",
        )


def register(
    *,
    event: Event,
    user: User,
    details: Mapping[str, Any],
    now: datetime.datetime | None = None,
) -> Registration:
    """Register ``user``: a seat if one is left, else a place on the waitlist.

    ``details`` are what the attendee wrote (``ATTENDEE_FIELDS``); nothing else in it is read.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        locked = _lock_event(event)
        _check_registration_open(locked, now)
        _check_meeting_registration(locked, user)
        if Registration.objects.active().filter(event=locked, user=user).exists():
            raise ValidationError(_("You are already registered for this event."), code="already")
        fee = decide_fee(locked, membership=member_standing(user, today), on=today)
        if isinstance(fee, NoFee):
            raise ValidationError(_no_fee_message(locked, fee), code="no_fee")
        seats_left = _seats_left(locked)
        confirmed = seats_left is None or seats_left > 0
        registration = Registration(
            event=locked,
            user=user,
            email=user.email,
            status=RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITLISTED,
            joined_as_member=fee.member,
            registered_at=now,
            confirmed_at=now if confirmed else None,
            **{name: details.get(name, "") for name in ATTENDEE_FIELDS if name != "listed"},
            listed=bool(details.get("listed")),
        )
        _apply_fee(registration, fee, currency=locked.currency)
        try:
            with transaction.atomic():
                registration.save(force_insert=True)
        except IntegrityError as error:
            # Two submissions of the same person at once: the constraint let one through.
            raise ValidationError(
                _("You are already registered for this event."), code="already"
            ) from error
        if confirmed:
            _take_seat(locked)
        record_start(
            registration,
            transitions=REGISTRATION_MOVES,
            history=RegistrationStatusChange,
            by=user,
            registration=registration,
        )
        if confirmed:
            _send_confirmation(registration, template="events/email/registered")
        else:
            _tell_attendee(registration, template="events/email/waitlisted")
        EVENT_PAGES.bump_on_commit()
    return registration


def cancel_registration(
    *, registration: Registration, by: User, now: datetime.datetime | None = None, note: str = ""
) -> Registration:
    """Cancel a registration or leave the waitlist; a seat freed goes to the next in line.

    The attendee may cancel until the event's cut-off; the staff at any time.
    """
    now = now or timezone.now()
    staff = by.is_centre_staff
    if registration.user_id != by.pk and not staff:
        raise PermissionDenied(_("This is not your registration."))
    with transaction.atomic():
        event = _lock_event(registration.event)
        locked = lock(registration)
        if not locked.is_active:
            return locked
        locked.event = event
        if not staff and not locked.attendee_may_cancel(now):
            raise ValidationError(
                _(
                    "Registrations for this event can no longer be cancelled online: please "
                    "write to the Centre."
                ),
                code="cutoff",
            )
        was_confirmed = locked.is_confirmed
        _mark_cancelled(locked, by=by, note=note, now=now)
        locked.save(update_fields=["status", "cancelled_at"])
        _tell_attendee(
            locked, template="events/email/cancelled", extra={"by_staff": by.pk != locked.user_id}
        )
        if was_confirmed:
            _free_seat(event)
            _fill(event, now=now)
        _cancel_visits_that_need_it(event, locked, by=by, now=now)
        EVENT_PAGES.bump_on_commit()
    return locked


def _cancel_visits_that_need_it(
    meeting: Event, registration: Registration, *, by: User, now: datetime.datetime
) -> None:
    """A meeting registration cancelled: the person's places on its visits that are only for
    those registered to the meeting go too (their seats to the next in line). The meeting is
    locked already; each visit is locked after it, as every path locks an event before its
    registrations."""
    if meeting.kind != EventKind.ANNUAL_MEETING:
        return
    held = (
        Registration.objects.active()
        .filter(
            user_id=registration.user_id,
            event__parent=meeting,
            event__requires_parent_registration=True,
        )
        .order_by("event_id")
        .values_list("pk", "event_id")
    )
    for pk, visit_id in list(held):
        visit = _lock_event(Event(pk=visit_id))
        place = Registration.objects.select_for_update().select_related("user", "event").get(pk=pk)
        if not place.is_active:
            continue
        was_confirmed = place.is_confirmed
        _mark_cancelled(
            place, by=by, now=now, note=_("Cancelled with the registration to the meeting.")
        )
        place.save(update_fields=["status", "cancelled_at"])
        _tell_attendee(place, template="events/email/cancelled", extra={"with_meeting": True})
        if was_confirmed:
            _free_seat(visit)
            _fill(visit, now=now)


def _mark_cancelled(
    registration: Registration, *, by: User | None, note: str, now: datetime.datetime
) -> None:
    """Move the registration to cancelled and keep the change; the caller saves it."""
    move_status(
        registration,
        to=RegistrationStatus.CANCELLED,
        transitions=REGISTRATION_MOVES,
        history=RegistrationStatusChange,
        by=by,
        note=note,
        registration=registration,
    )
    registration.cancelled_at = now


def _next_in_line(event: Event, on: datetime.date) -> Registration | None:
    """Members in good standing today first, then everyone else, each in the order they came."""
    return (
        Registration.objects.waitlisted()
        .filter(event=event)
        .annotate(member_now=is_member_now(on))
        .select_related("user")
        .order_by("-member_now", "registered_at", "pk")
        .first()
    )


def _give_seat(
    event: Event, registration: Registration, *, now: datetime.datetime, by: User | None
) -> bool:
    """Give the locked event's free seat to a waitlisted registration, at the fee they
    qualify for now. False when no fee is open to them any more (a members-only event and
    their organisation lapsed): they leave the waitlist, and are told why."""
    today = timezone.localdate(now)
    fee = decide_fee(event, membership=member_standing(registration.user, today), on=today)
    if isinstance(fee, NoFee):
        _mark_cancelled(registration, by=by, note=_no_fee_message(event, fee), now=now)
        registration.save(update_fields=["status", "cancelled_at"])
        _tell_attendee(registration, template="events/email/waitlist_ineligible")
        return False
    lapsed = registration.joined_as_member and not fee.member
    _apply_fee(registration, fee, currency=event.currency)
    move_status(
        registration,
        to=RegistrationStatus.CONFIRMED,
        transitions=REGISTRATION_MOVES,
        history=RegistrationStatusChange,
        by=by,
        note=_("A seat was freed.") if by is None else _("Promoted by the staff."),
        registration=registration,
    )
    registration.confirmed_at = now
    registration.save(
        update_fields=[
            "status",
            "confirmed_at",
            "fee_tier",
            "fee_name",
            "amount",
            "fee_basis",
            "currency",
            "member_organisation",
        ]
    )
    _take_seat(event)
    _send_confirmation(
        registration, template="events/email/promoted", extra={"membership_lapsed": lapsed}
    )
    return True


def _fill(event: Event, *, now: datetime.datetime) -> list[Registration]:
    """Give the locked event's free seats to the waitlist, in its order."""
    promoted: list[Registration] = []
    today = timezone.localdate(now)
    while event.capacity is None or event.seats_taken < event.capacity:
        candidate = _next_in_line(event, today)
        if candidate is None:
            break
        if _give_seat(event, candidate, now=now, by=None):
            promoted.append(candidate)
    return promoted


def fill_free_seats(*, event: Event, now: datetime.datetime | None = None) -> list[Registration]:
    """Give an event's free seats (after its capacity was raised) to the waitlist, in order."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_event(event)
        promoted = _fill(locked, now=now)
        if promoted:
            EVENT_PAGES.bump_on_commit()
    return promoted


def promote(
    *,
    registration: Registration,
    by: User,
    add_seat: bool = False,
    now: datetime.datetime | None = None,
) -> Registration:
    """The staff give a seat to someone on the waitlist, whatever their place in it.

    With no seat free, ``add_seat`` raises the capacity by one for them; without it, refused.
    """
    _require_staff(by)
    now = now or timezone.now()
    with transaction.atomic():
        event = _lock_event(registration.event)
        locked = lock(registration)
        if not locked.is_waitlisted:
            raise ValidationError(
                _("%(name)s is not on the waitlist.") % {"name": locked.full_name}, code="status"
            )
        added_seat = event.is_full
        if added_seat:
            if not add_seat:
                raise ValidationError(
                    _("No seat is free for %(name)s: add a seat, or wait for a cancellation.")
                    % {"name": locked.full_name},
                    code="full",
                )
            Event.objects.filter(pk=event.pk).update(capacity=F("capacity") + 1)
            event.capacity = (event.capacity or 0) + 1
        given = _give_seat(event, locked, now=now, by=by)
        if not given and added_seat:
            # Nobody took the seat added for them: take it back.
            Event.objects.filter(pk=event.pk).update(capacity=F("capacity") - 1)
            event.capacity = (event.capacity or 1) - 1
        EVENT_PAGES.bump_on_commit()
    if not given:
        # Raised after the commit: their leaving the waitlist, and its email, are kept.
        raise ValidationError(
            _("%(name)s no longer qualifies for any fee of this event and left the waitlist.")
            % {"name": locked.full_name},
            code="no_fee",
        )
    return locked


def give_staff_fee(*, registration: Registration, tier: FeeTier, by: User) -> Registration:
    """The staff apply a fee of the event to one registration (a student's, a speaker's)."""
    _require_staff(by)
    with transaction.atomic():
        locked = lock(registration)
        if tier.event_id != locked.event_id:
            raise ValidationError(_("This fee belongs to another event."), code="event")
        if not locked.is_active:
            raise ValidationError(_("This registration was cancelled."), code="status")
        previous = f"{locked.fee_name or '–'} {locked.amount} {locked.currency}"
        locked.fee_tier = tier
        locked.fee_name = tier.name
        locked.amount = tier.amount
        locked.fee_basis = basis_of(tier)
        locked.save(update_fields=["fee_tier", "fee_name", "amount", "fee_basis"])
        RegistrationStatusChange.objects.create(
            registration=locked,
            from_status=locked.status,
            to_status=locked.status,
            actor=by,
            note=_("Fee changed from %(old)s to %(new)s.")
            % {"old": previous, "new": f"{tier.name} {tier.amount} {locked.currency}"},
        )
    return locked


def mark_paid(
    *, registrations: Iterable[Registration], by: User, now: datetime.datetime | None = None
) -> int:
    """Record the payments received; returns how many were newly marked."""
    _require_staff(by)
    now = now or timezone.now()
    pks = [registration.pk for registration in registrations]
    with transaction.atomic():
        marked = (
            Registration.objects.filter(pk__in=pks, paid_at__isnull=True)
            .confirmed()
            .update(paid_at=now, paid_by=by)
        )
        if marked:  # "My registrations" shows the payment received
            EVENT_PAGES.bump_on_commit()
        return marked


def mark_unpaid(*, registration: Registration, by: User) -> None:
    _require_staff(by)
    with transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(paid_at=None, paid_by=None)
        EVENT_PAGES.bump_on_commit()


def mark_attendance(
    *, registration: Registration, by: User, arrived: bool, now: datetime.datetime | None = None
) -> Registration:
    """At the door: the attendee arrived (or the mark is taken back)."""
    _require_staff(by)
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock(registration)
        if not locked.is_confirmed:
            raise ValidationError(
                _("%(name)s has no seat at this event.") % {"name": locked.full_name},
                code="status",
            )
        locked.attended_at = now if arrived else None
        locked.save(update_fields=["attended_at"])
    return locked


def create_event(*, event: Event, by: User) -> Event:
    """Save a new event as a draft (publishing is ``set_event_status``), with its first status."""
    _require_staff(by)
    with transaction.atomic():
        event.status = EventStatus.DRAFT
        event.seats_taken = 0
        event.save(force_insert=True)
        record_start(event, transitions=EVENT_MOVES, history=EventStatusChange, by=by, event=event)
    return event


def set_event_status(*, event: Event, to: EventStatus, by: User, note: str = "") -> Event:
    """Publish or withdraw an event (cancelling it is ``cancel_event``)."""
    _require_staff(by)
    if to == EventStatus.CANCELLED:
        return cancel_event(event=event, by=by, reason=note)
    with transaction.atomic():
        locked = _lock_event(event)
        if locked.status == to:
            return locked
        if to == EventStatus.DRAFT and Registration.objects.active().filter(event=locked).exists():
            raise ValidationError(
                _("People have registered for this event: cancel it instead of withdrawing it."),
                code="registrations",
            )
        move_status(
            locked,
            to=to,
            transitions=EVENT_MOVES,
            history=EventStatusChange,
            by=by,
            note=note,
            event=locked,
        )
        locked.save(update_fields=["status", "updated_at"])
        EVENT_PAGES.bump_on_commit()
    return locked


def cancel_event(*, event: Event, by: User, reason: str) -> Event:
    """Cancel an event (and the visits of a meeting): every registration is cancelled and
    everyone registered or waiting is told, with the reason."""
    _require_staff(by)
    if not reason.strip():
        raise ValidationError(
            _("Say why the event is cancelled: attendees are told."), code="reason"
        )
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_event(event)
        for each in [locked, *_visits_to_cancel(locked)]:
            _cancel_one_event(each, by=by, reason=reason, now=now)
        EVENT_PAGES.bump_on_commit()
    return locked


def _visits_to_cancel(event: Event) -> list[Event]:
    visits = event.visits.exclude(status=EventStatus.CANCELLED).order_by("pk")
    return [lock(visit) for visit in visits]


def _cancel_one_event(event: Event, *, by: User, reason: str, now: datetime.datetime) -> None:
    if event.status == EventStatus.CANCELLED:
        return
    move_status(
        event,
        to=EventStatus.CANCELLED,
        transitions=EVENT_MOVES,
        history=EventStatusChange,
        by=by,
        note=reason,
        event=event,
    )
    event.save(update_fields=["status", "updated_at"])
    registrations = list(
        Registration.objects.active().filter(event=event).select_related("user", "event")
    )
    for registration in registrations:
        _mark_cancelled(registration, by=by, note=reason, now=now)
    Registration.objects.bulk_update(registrations, ["status", "cancelled_at"])
    Event.objects.filter(pk=event.pk).update(seats_taken=0)
    event.seats_taken = 0
    for registration in registrations:
        _tell_attendee(
            registration,
            template="events/email/event_cancelled",
            extra={"reason": reason},
            attachments=[("event.ics", event_calendar([event]), "text/calendar")],
        )


def _require_staff(user: User) -> None:
    if not user.is_centre_staff:
        raise PermissionDenied(_("Only the Centre's staff can do this."))


# --- Emails ----------------------------------------------------------------------------------


def _context(registration: Registration) -> dict[str, Any]:
    event = registration.event
    return {
        "registration": registration,
        "event": event,
        "starts": event.local_start,
        "ends": event.local_end,
        "event_url": absolute_url(event.get_absolute_url()),
        "my_url": absolute_url("/events/my/"),
    }


def _tell_attendee(
    registration: Registration,
    *,
    template: str,
    extra: dict[str, Any] | None = None,
    attachments: list[tuple[str, str | bytes, str]] | None = None,
) -> None:
    user = registration.user
    send_templated_email(
        template=template,
        to=[registration.email or user.email],
        context={**_context(registration), "user": user, **(extra or {})},
        language=user.language,
        purpose=f"{template}:{registration.pk}",
        attachments=attachments or (),
    )


def _send_confirmation(
    registration: Registration, *, template: str, extra: dict[str, Any] | None = None
) -> None:
    """The seat's confirmation: amount due, how to pay, the reference, and the ``.ics``."""
    _tell_attendee(
        registration,
        template=template,
        extra=extra,
        attachments=[("event.ics", event_calendar([registration.event]), "text/calendar")],
    )
