"""Staff put a member's dismissal for cause to the Board from the membership's admin page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from board.models import Ballot
from members.models import MembershipEvent, MembershipEventKind, MembershipKind
from members.services import DISMISSAL
from tests import factories
from tests.factories import with_totp

pytestmark = pytest.mark.django_db

CAUSE = "Used the Centre's name to sell surveillance products, against the statutes."


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(with_totp(staff_user))
    return client


@pytest.fixture
def member():
    factories.DirectorFactory()
    membership = factories.MembershipFactory()
    factories.RepresentativeFactory(organisation=membership.organisation, user__language="en")
    return membership


def in_days(days: int) -> str:
    return (timezone.localtime() + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def test_staff_open_the_dismissal_vote_with_the_grounds_and_the_member_is_told(
    staff_client, staff_user, member, outbox, django_capture_on_commit_callbacks
):
    url = reverse("admin:members_membership_dismiss", args=[member.pk])

    assert "csrfmiddlewaretoken" in staff_client.get(url).text
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"cause": CAUSE, "deadline": in_days(10)})

    assert response.status_code == 302
    ballot = Ballot.objects.get()
    assert (ballot.kind, ballot.subject_id, ballot.details, ballot.opened_by) == (
        DISMISSAL,
        member.organisation.pk,
        CAUSE,
        staff_user,
    )
    event = MembershipEvent.objects.get(membership=member)
    assert (event.kind, event.by) == (MembershipEventKind.DISMISSAL_PROPOSED, staff_user)
    representative = member.organisation.representatives.get().user
    to_member = [m for m in outbox if m.to == [representative.email]]
    assert len(to_member) == 1
    assert CAUSE in to_member[0].body


def test_a_deadline_too_soon_is_shown_next_to_the_deadline_and_the_grounds_are_kept(
    staff_client, member
):
    url = reverse("admin:members_membership_dismiss", args=[member.pk])
    soon = (timezone.localtime() + datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")

    response = staff_client.post(url, {"cause": CAUSE, "deadline": soon})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "at least an hour" in errors["deadline"][0]
    assert escape(CAUSE) in response.text
    assert not Ballot.objects.exists()


def test_grounds_are_required(staff_client, member):
    url = reverse("admin:members_membership_dismiss", args=[member.pk])

    response = staff_client.post(url, {"cause": "", "deadline": in_days(10)})

    assert response.status_code == 200
    assert response.context["form"].errors["cause"]
    assert not Ballot.objects.exists()


def test_a_second_dismissal_vote_while_one_is_open_is_refused_on_the_page(staff_client, member):
    url = reverse("admin:members_membership_dismiss", args=[member.pk])
    staff_client.post(url, {"cause": CAUSE, "deadline": in_days(10)})

    again = staff_client.post(url, {"cause": CAUSE, "deadline": in_days(12)})

    assert again.status_code == 200
    assert again.context["form"].non_field_errors()
    assert Ballot.objects.count() == 1


def test_a_director_without_staff_rights_cannot_open_a_dismissal(client, member):
    director = factories.DirectorFactory()
    client.force_login(director)

    response = client.post(
        reverse("admin:members_membership_dismiss", args=[member.pk]),
        {"cause": CAUSE, "deadline": in_days(10)},
    )

    assert response.status_code == 403
    assert not Ballot.objects.exists()


def test_an_honorary_person_has_no_dismissal_button(staff_client):
    person = factories.UserFactory(first_name="Irvin", last_name="Waller")
    membership = factories.MembershipFactory(
        organisation=None, person=person, kind=MembershipKind.HONORARY
    )

    page = staff_client.get(reverse("admin:members_membership_change", args=[membership.pk]))

    assert page.status_code == 200
    assert "Irvin Waller" in page.text
    assert reverse("admin:members_membership_dismiss", args=[membership.pk]) not in page.text
    assert reverse("admin:members_membership_flag", args=[membership.pk]) in page.text
