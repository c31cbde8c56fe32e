"""What the staff read about an event's people: the waitlist in its order, the badge list, the
door list, the attendee export, and the roll of the Annual General Meeting.

Read-only: every change (a seat given, a payment, an arrival) goes through ``events.services``.
Each list costs the same few queries however many people it holds.

The AGM roll: every general member in good standing on the meeting's day is a row, whether or
not anyone registered for it. Who registered for a member is whoever holds a confirmed seat and
is, today, its representative or one of its contacts. One vote per member, however many of its
people come: the representative's if they registered, else the first of its people who did.
Honorary members (organisations and persons) attend without a vote; they are listed when they
registered.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from members.models import Contact, Membership, MembershipKind, Representative

from .fees import is_member_now
from .models import Event, Registration


def event_day(event: Event) -> datetime.date:
    """The day good standing is read on: the meeting's day where it takes place once it has
    come; before then, today (a membership renews itself meanwhile, so a period that ends
    before the meeting is no sign that the member will not be in good standing then)."""
    return min(event.local_start.date(), timezone.localdate())


# --- an event's lists ----------------------------------------------------------------------------


def waitlist_in_order(event: Event, on: datetime.date | None = None) -> QuerySet[Registration]:
    """The waitlist as the seats are given: members in good standing ``on`` (today) first,
    then everyone else, each in the order they came (as ``services._next_in_line``)."""
    on = on or timezone.localdate()
    return (
        Registration.objects.waitlisted()
        .filter(event=event)
        .annotate(member_now=is_member_now(on))
        .select_related("member_organisation")
        .order_by("-member_now", "registered_at", "pk")
    )


def badge_list(event: Event) -> QuerySet[Registration]:
    """The confirmed attendees, by last name then first name."""
    return (
        Registration.objects.confirmed()
        .filter(event=event)
        .order_by(Lower("last_name"), Lower("first_name"), "pk")
    )


def door_list(event: Event, search: str = "") -> QuerySet[Registration]:
    """The confirmed attendees for the door, by last name; each word of ``search`` must be found
    in the name, the organisation or the email."""
    registrations = badge_list(event)
    for word in search.split():
        registrations = registrations.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(organisation_name__icontains=word)
            | Q(email__icontains=word)
        )
    return registrations


def attendee_export(event: Event) -> QuerySet[Registration]:
    """Every registration of the event, seats first, then the waitlist, then the cancelled."""
    return (
        Registration.objects.filter(event=event)
        .select_related("member_organisation")
        .order_by("status", Lower("last_name"), Lower("first_name"), "pk")
    )


@dataclass(frozen=True)
class DoorCounts:
    confirmed: int
    arrived: int


def door_counts(event: Event) -> DoorCounts:
    counts = (
        Registration.objects.confirmed()
        .filter(event=event)
        .aggregate(
            confirmed=Count("pk"),
            arrived=Count("pk", filter=Q(attended_at__isnull=False)),
        )
    )
    return DoorCounts(confirmed=counts["confirmed"], arrived=counts["arrived"])


# --- the AGM roll --------------------------------------------------------------------------------


@dataclass
class RollRow:
    """A member on the roll, with the people registered for it."""

    membership: Membership
    representative: Representative | None
    registrants: list[Registration] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.membership.holder_name

    @property
    def votes(self) -> bool:
        """General members vote (through their delegate); honorary members do not."""
        return self.membership.kind == MembershipKind.GENERAL

    @property
    def registered(self) -> bool:
        return bool(self.registrants)

    @property
    def delegate(self) -> Registration | None:
        """Who casts the member's one vote: its representative if registered, else the first
        of its people who registered. Honorary members have none."""
        if not self.votes or not self.registrants:
            return None
        if self.representative is not None:
            for registration in self.registrants:
                if registration.user_id == self.representative.user_id:
                    return registration
        return self.registrants[0]

    @property
    def present(self) -> bool:
        """Someone of the member has been marked as arrived at the door."""
        return any(r.attended_at is not None for r in self.registrants)

    @property
    def delegate_present(self) -> bool:
        delegate = self.delegate
        return delegate is not None and delegate.attended_at is not None


@dataclass
class Roll:
    event: Event
    on: datetime.date
    general: list[RollRow]
    honorary: list[RollRow]

    @property
    def members_total(self) -> int:
        return len(self.general)

    @property
    def members_registered(self) -> int:
        return sum(1 for row in self.general if row.registered)

    @property
    def members_present(self) -> int:
        """General members whose voting delegate has arrived."""
        return sum(1 for row in self.general if row.delegate_present)

    @property
    def people_registered(self) -> int:
        return sum(len(row.registrants) for row in self.general)

    @property
    def quorum_line(self) -> str:
        registered = ngettext(
            "%(registered)d of %(total)d general member registered",
            "%(registered)d of %(total)d general members registered",
            self.members_total,
        ) % {"registered": self.members_registered, "total": self.members_total}
        counts = ngettext(
            "one vote per member however many of its people come (%(people)d person registered)",
            "one vote per member however many of its people come (%(people)d people registered)",
            self.people_registered,
        ) % {"people": self.people_registered}
        present = gettext("%(present)d voting delegates marked as arrived") % {
            "present": self.members_present
        }
        return f"{registered}; {counts}; {present}."


def agm_roll(event: Event, on: datetime.date | None = None) -> Roll:
    """The roll of ``event`` for the members in good standing on ``on`` (the meeting's day).

    Four queries whatever the number of members: the memberships, their representatives,
    their contacts, and the event's confirmed registrations.
    """
    on = on or event_day(event)
    memberships = list(
        Membership.objects.in_good_standing(on)
        .select_related("organisation", "person")
        .order_by("kind", "pk")
    )
    organisation_ids = {m.organisation_id for m in memberships if m.organisation_id is not None}
    representatives: dict[int, Representative] = {}
    people: dict[int, set[int]] = defaultdict(set)  # organisation -> its people (user ids)
    if organisation_ids:
        for representative in (
            Representative.objects.current()
            .filter(organisation_id__in=organisation_ids)
            .select_related("user")
            .order_by("organisation_id", "-started_on", "-pk")
        ):
            representatives.setdefault(representative.organisation_id, representative)
            people[representative.organisation_id].add(representative.user_id)
        for organisation_id, user_id in (
            Contact.objects.current()
            .filter(organisation_id__in=organisation_ids)
            .values_list("organisation_id", "user_id")
        ):
            people[organisation_id].add(user_id)
    by_user: dict[int, list[Registration]] = defaultdict(list)
    for registration in (
        Registration.objects.confirmed().filter(event=event).order_by("registered_at", "pk")
    ):
        by_user[registration.user_id].append(registration)

    def registrants(user_ids: set[int]) -> list[Registration]:
        found = [r for user_id in user_ids for r in by_user.get(user_id, [])]
        return sorted(found, key=lambda r: (r.registered_at, r.pk))

    general: list[RollRow] = []
    honorary: list[RollRow] = []
    for membership in memberships:
        if membership.organisation_id is not None:
            row = RollRow(
                membership,
                representatives.get(membership.organisation_id),
                registrants(people.get(membership.organisation_id, set())),
            )
        else:
            person = {membership.person_id} if membership.person_id is not None else set()
            row = RollRow(membership, None, registrants(person))
        if membership.kind == MembershipKind.GENERAL:
            general.append(row)
        elif row.registered:
            honorary.append(row)
    general.sort(key=lambda row: row.name.casefold())
    honorary.sort(key=lambda row: row.name.casefold())
    return Roll(event=event, on=on, general=general, honorary=honorary)


def roll_rows(roll: Roll) -> Iterator[RollRow]:
    """The roll's rows for the export: general members, then the honorary ones."""
    yield from roll.general
    yield from roll.honorary
