"""The member fee's rule in one statement (members.models.member_fee_membership) gives the same
membership as the querysets it stands for, ``in_good_standing(on).giving_member_fee_to(user)``
in their order, for every kind of person the rule knows."""

import datetime

import pytest
from django.utils import timezone

from members.models import (
    EndReason,
    Membership,
    MembershipKind,
    MembershipStatus,
    RepresentativeStatus,
    member_fee_membership,
)
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    OrganisationFactory,
    RepresentativeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)
LONG_AGO = TODAY - datetime.timedelta(days=500)


def by_the_querysets(user, on):
    return (
        Membership.objects.in_good_standing(on)
        .giving_member_fee_to(user)
        .select_related("organisation")
        .order_by("kind", "organisation__name", "pk")
        .first()
    )


def lapsed():
    return MembershipFactory(
        started_on=LONG_AGO, period_start=LONG_AGO, period_end=TODAY - datetime.timedelta(days=30)
    )


def ended():
    return MembershipFactory(
        started_on=LONG_AGO,
        period_start=LONG_AGO,
        period_end=TODAY + datetime.timedelta(days=30),
        status=MembershipStatus.ENDED,
        ended_on=TODAY - datetime.timedelta(days=1),
        end_reason=EndReason.RESIGNED,
    )


def current(name="M"):
    return MembershipFactory(
        organisation=OrganisationFactory(name=name),
        started_on=TODAY,
        period_start=TODAY,
        period_end=TODAY + datetime.timedelta(days=364),
    )


def people():
    """Each case the rule distinguishes, with who should get a fee through what."""
    cases = {}
    member = current()
    cases["representative"] = (RepresentativeFactory(organisation=member.organisation).user, member)
    cases["contact"] = (ContactFactory(organisation=member.organisation).user, member)
    removed = ContactFactory(organisation=member.organisation)
    removed.removed_at = timezone.now()
    removed.save(update_fields=["removed_at"])
    cases["removed contact"] = (removed.user, None)
    replaced = RepresentativeFactory(
        organisation=member.organisation,
        status=RepresentativeStatus.ENDED,
        started_on=LONG_AGO,
        ended_on=TODAY,
    )
    cases["replaced representative"] = (replaced.user, None)
    proposed = RepresentativeFactory(
        organisation=current("P").organisation, status=RepresentativeStatus.PROPOSED
    )
    cases["proposed representative"] = (proposed.user, None)
    cases["lapsed member's representative"] = (
        RepresentativeFactory(organisation=lapsed().organisation).user,
        None,
    )
    cases["ended member's contact"] = (ContactFactory(organisation=ended().organisation).user, None)
    honorary = MembershipFactory(
        organisation=None,
        person=UserFactory(),
        kind=MembershipKind.HONORARY,
        started_on=LONG_AGO,
        period_start=LONG_AGO,
        period_end=LONG_AGO + datetime.timedelta(days=364),
    )
    cases["honorary member, period long past"] = (honorary.person, honorary)
    # Two members at once: the general one, and of two the first by name.
    both = UserFactory()
    zebra, alpha = current("Zebra City"), current("Alpha City")
    ContactFactory(user=both, organisation=zebra.organisation)
    RepresentativeFactory(user=both, organisation=alpha.organisation)
    MembershipFactory(organisation=None, person=both, kind=MembershipKind.HONORARY)
    cases["contact of two, honorary too"] = (both, alpha)
    cases["nobody"] = (UserFactory(), None)
    return cases


def test_one_statement_and_the_querysets_give_the_same_membership():
    for case, (user, expected) in people().items():
        by_rule = by_the_querysets(user, TODAY)
        assert by_rule == expected, case
        found = member_fee_membership(user.pk, TODAY)
        assert found == expected, case
        if found is not None:
            assert found.organisation == expected.organisation, case


def test_the_day_counts():
    member = current()
    user = RepresentativeFactory(organisation=member.organisation).user
    assert member_fee_membership(user.pk, TODAY) == member
    after = member.period_end + datetime.timedelta(days=1)
    assert member_fee_membership(user.pk, after) is None
    assert by_the_querysets(user, after) is None
