"""Staff propose an honorary member to the Board from the admin: an organisation known to the
portal, a new organisation, or a person in their own name."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from board.models import Ballot
from members.models import Category, Organisation
from members.services import HONORARY, HONORARY_PERSON
from tests import factories
from tests.factories import with_totp

pytestmark = pytest.mark.django_db

URL = "/admin/members/membership/propose-honorary/"
WHY = "Thirty years of work on community safety in West Africa."


@pytest.fixture
def staff_client(client, staff_user):
    factories.DirectorFactory()
    client.force_login(with_totp(staff_user))
    return client


def in_days(days: int) -> str:
    return (timezone.localtime() + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def post(client, **data):
    return client.post(URL, {"details": WHY, "deadline": in_days(10), **data})


def test_the_page_is_linked_from_the_membership_list(staff_client):
    assert reverse("admin:members_membership_honorary") == URL
    listing = staff_client.get(reverse("admin:members_membership_changelist"))
    assert URL in listing.text
    page = staff_client.get(URL)
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in page.text


def test_an_existing_organisation_is_put_to_the_board(staff_client, staff_user):
    organisation = factories.OrganisationFactory(name="Urban Safety Institute")

    response = post(staff_client, who="existing", organisation=organisation.pk)

    assert response.status_code == 302
    ballot = Ballot.objects.get()
    assert (ballot.kind, ballot.subject_id, ballot.details, ballot.opened_by) == (
        HONORARY,
        organisation.pk,
        WHY,
        staff_user,
    )


def test_a_current_member_cannot_be_proposed(staff_client):
    membership = factories.MembershipFactory()

    response = post(staff_client, who="existing", organisation=membership.organisation.pk)

    assert response.status_code == 200
    assert "already a member" in response.context["form"].errors["organisation"][0]
    assert not Ballot.objects.exists()


def test_a_new_organisation_is_created_and_put_to_the_board(staff_client):
    response = post(
        staff_client,
        who="new",
        name="Fondation pour la sécurité urbaine",
        category=Category.NGO,
        country="SN",
        city="Dakar",
        website="fsu.example.org",
    )

    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Fondation pour la sécurité urbaine")
    assert (organisation.category, organisation.country.code, organisation.city) == (
        Category.NGO,
        "SN",
        "Dakar",
    )
    assert organisation.website == "https://fsu.example.org"
    assert Ballot.objects.get().subject_id == organisation.pk
    assert not organisation.memberships.exists()


def test_a_person_gets_an_account_and_nothing_is_sent_to_them(
    staff_client, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            staff_client,
            who="person",
            first_name="Irvin",
            last_name="Waller",
            email="Irvin.Waller@example.org",
            language="fr",
        )

    assert response.status_code == 302
    person = User.objects.get(email="irvin.waller@example.org")
    assert (person.first_name, person.last_name, person.language) == ("Irvin", "Waller", "fr")
    assert not person.has_usable_password()
    ballot = Ballot.objects.get()
    assert (ballot.kind, ballot.subject_id) == (HONORARY_PERSON, person.pk)
    assert outbox, "the directors are told the vote is open"
    assert all(person.email not in message.to for message in outbox)


def test_each_choice_needs_its_own_fields_and_keeps_what_was_typed(staff_client):
    response = post(staff_client, who="person", first_name="Irvin")

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"last_name", "email"}
    assert 'value="Irvin"' in response.text
    new = post(staff_client, who="new", name="Only a name")
    assert set(new.context["form"].errors) == {"category", "country", "city"}
    assert not Ballot.objects.exists()


def test_nothing_is_created_when_the_vote_cannot_open(staff_client):
    soon = (timezone.localtime() + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")

    response = staff_client.post(
        URL,
        {
            "who": "person",
            "first_name": "Irvin",
            "last_name": "Waller",
            "email": "irvin.waller@example.org",
            "language": "en",
            "details": WHY,
            "deadline": soon,
        },
    )

    assert response.status_code == 200
    assert "at least an hour" in response.context["form"].errors["deadline"][0]
    assert not User.objects.filter(email="irvin.waller@example.org").exists()
    assert not Ballot.objects.exists()


def test_a_director_without_staff_rights_cannot_propose(client):
    director = factories.DirectorFactory()
    client.force_login(director)

    assert client.get(URL).status_code == 403
    organisation = factories.OrganisationFactory()
    response = post(client, who="existing", organisation=organisation.pk)
    assert response.status_code == 403
    assert not Ballot.objects.exists()


def test_the_organisation_is_found_by_typing_part_of_its_name(staff_client):
    organisation = factories.OrganisationFactory(name="Urban Safety Institute")
    factories.OrganisationFactory(name="Safer Lyon")

    found = staff_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "members",
            "model_name": "membership",
            "field_name": "organisation",
            "term": "urban",
        },
    )

    assert found.status_code == 200
    assert [r["id"] for r in found.json()["results"]] == [str(organisation.pk)]
