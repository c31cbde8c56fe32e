"""People in each standing the fee rule tells apart: a member organisation's representative and
its contact, a non-member; and an event with the member and non-member fees."""

import pytest

from tests.factories import (
    ContactFactory,
    EventFactory,
    MembershipFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
    with_member_and_public_fees,
)


@pytest.fixture
def member_org(db):
    return MembershipFactory().organisation


@pytest.fixture
def representative(member_org):
    return RepresentativeFactory(organisation=member_org).user


@pytest.fixture
def contact(member_org):
    return ContactFactory(organisation=member_org).user


@pytest.fixture
def outsider(db):
    return UserFactory()


@pytest.fixture
def event(db):
    return with_member_and_public_fees(EventFactory())


@pytest.fixture
def centre_staff(db):
    return StaffFactory()


DETAILS = {
    "first_name": "Ana",
    "last_name": "Lopez",
    "job_title": "Prevention officer",
    "organisation_name": "City",
    "dietary_needs": "",
    "accessibility_needs": "",
    "listed": True,
}
