"""The one rule for what a person pays: decided by the server, at the moment the seat is
given, from the person's standing that day. Nothing a form sends takes part in it."""

import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef

from members.models import Membership, Organisation, member_fee_membership

from .models import Event, FeeAudience, FeeBasis, FeeTier


class Fee(NamedTuple):
    tier: FeeTier | None
    name: str
    amount: Decimal
    basis: FeeBasis
    # The member whose good standing gives the member fee, if any (an organisation; None for
    # an honorary member in their own name, and for non-members).
    organisation: Organisation | None
    member: bool


class NoFee(NamedTuple):
    """No fee is open to this person: the event is for members only, or its fees have run out."""

    members_only: bool


def member_standing(user: Any, on: datetime.date) -> Membership | None:
    """The membership in good standing through which ``user`` pays the member fee, if any."""
    return member_fee_membership(user.pk, on)


def is_member_now(on: datetime.date, user: Any = None) -> Exists:
    """For ordering a waitlist in SQL: the registrant is a member in good standing ``on``."""
    return Exists(
        Membership.objects.in_good_standing(on).giving_member_fee_to(user or OuterRef("user"))
    )


def basis_of(tier: FeeTier) -> FeeBasis:
    """What a fee says of the one who pays it: a members' fee, everyone's, or the staff's gift."""
    if tier.audience == FeeAudience.MEMBERS:
        return FeeBasis.MEMBER
    if tier.audience == FeeAudience.ASSIGNED:
        return FeeBasis.ASSIGNED
    return FeeBasis.NON_MEMBER


def decide_fee(
    event: Event,
    *,
    membership: Membership | None,
    on: datetime.date,
    tiers: list[FeeTier] | None = None,
) -> Fee | NoFee:
    """The lowest fee open to the person on ``on``: a members' tier only with a membership in
    good standing, an everyone's tier to all; dated tiers (early-bird) until their last day.
    The tiers the staff give (students, speakers) are never chosen here. No tier at all: free.
    """
    if tiers is None:
        tiers = list(event.fee_tiers.all())
    member = membership is not None
    organisation = membership.organisation if membership is not None else None
    if not tiers:
        return Fee(None, "", Decimal("0"), FeeBasis.FREE, organisation, member)
    open_to_them = [
        tier
        for tier in tiers
        if tier.applies_on(on)
        and (
            tier.audience == FeeAudience.EVERYONE
            or (tier.audience == FeeAudience.MEMBERS and member)
        )
    ]
    if not open_to_them:
        members_only = not member and any(
            tier.audience == FeeAudience.MEMBERS and tier.applies_on(on) for tier in tiers
        )
        return NoFee(members_only=members_only)
    # Lowest first; at the same amount, the members' tier (it says why they pay it).
    best = min(
        open_to_them,
        key=lambda tier: (tier.amount, tier.audience != FeeAudience.MEMBERS, tier.position),
    )
    return Fee(best, best.name, best.amount, basis_of(best), organisation, member)


__all__ = ["Fee", "NoFee", "basis_of", "decide_fee", "is_member_now", "member_standing"]
