"""The menu's link to the Membership page: shown to whoever sees a membership there, at one
cheap query per page, by the same rule as the page itself."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from members.models import EndReason, MembershipKind, MembershipStatus, RepresentativeStatus
from members.services.member import memberships_visible_to
from members.templatetags.members_tags import has_membership_page, has_visible_membership
from tests.budgets import SESSION_QUERIES
from tests.factories import MembershipFactory, RepresentativeFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 6, 30)
LINK = f'href="{reverse("members:membership")}"'


def _ended_membership(**fields):
    return MembershipFactory(
        status=MembershipStatus.ENDED, ended_on=DAY, end_reason=EndReason.RESIGNED, **fields
    )


def _replaced(organisation, *, started_on, ended_on):
    return RepresentativeFactory(
        organisation=organisation,
        status=RepresentativeStatus.ENDED,
        started_on=started_on,
        ended_on=ended_on,
    ).user


def _honorary_person():
    return MembershipFactory(
        organisation=None, person=UserFactory(), kind=MembershipKind.HONORARY
    ).person


def _representative_of_active_member():
    return RepresentativeFactory(organisation=MembershipFactory().organisation).user


def _representative_of_ended_member():
    return RepresentativeFactory(
        organisation=_ended_membership().organisation, started_on=DAY - datetime.timedelta(days=90)
    ).user


def _replaced_representative_of_active_member():
    organisation = MembershipFactory().organisation
    return _replaced(organisation, started_on=DAY, ended_on=DAY + datetime.timedelta(days=1))


def _representative_when_the_membership_ended():
    organisation = _ended_membership().organisation
    return _replaced(organisation, started_on=DAY - datetime.timedelta(days=90), ended_on=DAY)


def _replaced_before_the_membership_ended():
    organisation = _ended_membership().organisation
    return _replaced(
        organisation,
        started_on=DAY - datetime.timedelta(days=90),
        ended_on=DAY - datetime.timedelta(days=1),
    )


def _designated_after_the_membership_ended():
    organisation = _ended_membership().organisation
    return RepresentativeFactory(
        organisation=organisation, started_on=DAY + datetime.timedelta(days=1)
    ).user


def _proposed_representative_of_active_member():
    return RepresentativeFactory(
        organisation=MembershipFactory().organisation, status=RepresentativeStatus.PROPOSED
    ).user


PEOPLE = {
    "no membership": (UserFactory, False),
    "an honorary member": (_honorary_person, True),
    "the representative of an active member": (_representative_of_active_member, True),
    "the representative of an ended member": (_representative_of_ended_member, True),
    "a replaced representative of an active member": (
        _replaced_representative_of_active_member,
        False,
    ),
    "the representative when the membership ended": (
        _representative_when_the_membership_ended,
        True,
    ),
    "replaced before the membership ended": (_replaced_before_the_membership_ended, False),
    "designated after the membership ended": (_designated_after_the_membership_ended, False),
    "a proposed representative": (_proposed_representative_of_active_member, False),
}


@pytest.mark.parametrize("who", PEOPLE)
def test_the_menu_check_agrees_with_the_membership_page(who):
    make, sees = PEOPLE[who]
    user = make()

    assert memberships_visible_to(user).exists() is sees
    assert has_visible_membership(user.pk) is sees


@pytest.mark.parametrize("who", PEOPLE)
def test_the_menu_links_to_the_membership_page_only_for_who_sees_one(client, who):
    make, sees = PEOPLE[who]
    client.force_login(make())

    assert (LINK in client.get(reverse("events:list")).content.decode()) is sees


def test_the_menu_check_is_one_query_and_none_for_a_visitor(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert has_membership_page(AnonymousUser()) is False

    client.force_login(_representative_of_active_member())
    client.get(reverse("home"))
    # The session (unless it comes from the cache) and the menu's check: the person's account
    # is kept (accounts.backends) and the home page itself is the same for everyone.
    with django_assert_num_queries(SESSION_QUERIES + 1) as page:
        assert LINK in client.get(reverse("home")).content.decode()
    assert "members_membership" in page.captured_queries[-1]["sql"]
