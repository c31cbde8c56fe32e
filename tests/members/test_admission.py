"""Members owns admission; a representative's designation keeps its history."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from members import services
from members.models import (
    Membership,
    Qualification,
    Representative,
    RepresentativeStatus,
)
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 25)


def admit(name: str = "Safer Cities Network", country: str = "CA", **extra):
    return services.admit_organisation(
        name=name,
        category="city",
        country=country,
        city="Montréal",
        website="",
        description="",
        representative=extra.pop("representative", None) or factories.UserFactory(),
        title="Director of Prevention",
        qualification=Qualification.DIRECTOR,
        on=TODAY,
        by=None,
        reason="Approved by the Board",
        **extra,
    )


def test_admitting_creates_the_organisation_its_membership_and_its_representative():
    person = factories.UserFactory()

    membership = admit(representative=person)

    assert membership.kind == "general" and membership.status == "active"
    (representative,) = Representative.objects.filter(organisation=membership.organisation)
    assert (representative.user, representative.status) == (person, RepresentativeStatus.CURRENT)
    (designation,) = representative.status_changes.all()
    assert (designation.from_status, designation.to_status) == ("", "current")
    assert designation.note == "Director of Prevention (Holds a directorial position)"


def test_admitting_an_organisation_that_is_already_a_member_gives_a_clear_error():
    admit("Safer Cities Network", "CA")

    with pytest.raises(ValidationError, match="Safer Cities Network is already a member"):
        admit("safer cities network ", "CA")
    assert Membership.objects.count() == 1


def test_an_organisation_of_the_same_name_in_another_country_may_join():
    admit("Safer Cities Network", "CA")
    admit("Safer Cities Network", "FR")
    assert Membership.objects.count() == 2


def test_a_new_representative_ends_the_previous_one_and_both_moves_are_kept():
    membership = admit()
    organisation = membership.organisation
    first = Representative.objects.get(organisation=organisation)
    successor = factories.UserFactory()

    services.designate_representative(
        organisation=organisation,
        user=successor,
        title="Mayor",
        qualification=Qualification.ELECTED,
        on=TODAY + datetime.timedelta(days=30),
    )

    first.refresh_from_db()
    assert (first.status, first.ended_on) == (
        RepresentativeStatus.ENDED,
        TODAY + datetime.timedelta(days=30),
    )
    assert [(c.from_status, c.to_status) for c in first.status_changes.all()] == [
        ("", "current"),
        ("current", "ended"),
    ]
    current = Representative.objects.current().get(organisation=organisation)
    assert current.user == successor


def test_designating_the_same_person_again_records_the_new_title():
    membership = admit()
    representative = Representative.objects.get(organisation=membership.organisation)

    services.designate_representative(
        organisation=membership.organisation,
        user=representative.user,
        title="Secretary General",
        qualification=Qualification.EMPLOYEE,
        on=TODAY,
    )

    representative.refresh_from_db()
    assert representative.title == "Secretary General"
    last = representative.status_changes.last()
    assert (last.from_status, last.to_status) == ("current", "current")
    assert "Secretary General" in last.note


def test_ending_a_membership_twice_is_refused():
    membership = admit()
    services.end_membership(membership=membership, reason="resigned", note="", on=TODAY, by=None)

    with pytest.raises(ValidationError, match="Ended"):
        services.end_membership(
            membership=membership, reason="resigned", note="", on=TODAY, by=None
        )
