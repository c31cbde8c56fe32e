"""The representative's contacts: colleagues who register for events at the member fee."""

import pytest

from members.models import Contact, MembershipEvent, MembershipEventKind
from tests.factories import ContactFactory, MembershipFactory, RepresentativeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership():
    return MembershipFactory()


@pytest.fixture
def representative(membership):
    return RepresentativeFactory(organisation=membership.organisation).user


def _url(membership) -> str:
    return f"/members/membership/{membership.pk}/contacts/"


def test_the_representative_adds_a_colleague_who_is_invited_by_email(
    client, membership, representative, mailoutbox
):
    client.force_login(representative)

    response = client.post(
        _url(membership),
        {
            "first_name": "Kim",
            "last_name": "Roy",
            "email": "Kim.Roy@City.example",
            "language": "fr",
        },
    )

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.user.email == "kim.roy@city.example"
    assert contact.user.language == "fr"
    assert contact.added_by == representative
    invitation = mailoutbox[-1]
    assert invitation.to == ["kim.roy@city.example"]
    assert membership.organisation.name in invitation.subject
    assert "/accounts/password/reset/key/" in invitation.body  # a new account chooses a password
    assert MembershipEvent.objects.filter(
        membership=membership, kind=MembershipEventKind.CONTACT_ADDED, by=representative
    ).exists()
    page = client.get(_url(membership)).content.decode()
    assert "kim.roy@city.example" in page


def test_adding_the_same_colleague_twice_says_so_next_to_the_address_and_keeps_the_form(
    client, membership, representative
):
    existing = ContactFactory(organisation=membership.organisation)
    client.force_login(representative)

    response = client.post(
        _url(membership),
        {
            "first_name": "Typed",
            "last_name": "Name",
            "email": existing.user.email,
            "language": "en",
        },
    )

    assert response.status_code == 400
    assert "already one of your contacts" in response.content.decode()
    assert response.context["form"].errors["email"]
    assert 'value="Typed"' in response.content.decode()
    assert Contact.objects.count() == 1


def test_an_address_that_is_not_one_is_refused_next_to_the_field(
    client, membership, representative
):
    client.force_login(representative)

    response = client.post(
        _url(membership), {"first_name": "A", "last_name": "B", "email": "nope", "language": "en"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["email"]


def test_the_representative_removes_a_contact_and_the_history_keeps_it(
    client, membership, representative
):
    contact = ContactFactory(organisation=membership.organisation)
    client.force_login(representative)

    response = client.post(f"{_url(membership)}{contact.pk}/remove/")

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.removed_at is not None and contact.removed_by == representative
    assert not Contact.objects.current().exists()
    assert MembershipEvent.objects.filter(kind=MembershipEventKind.CONTACT_REMOVED).exists()


def test_someone_else_cannot_see_or_change_the_contacts(client, membership):
    contact = ContactFactory(organisation=membership.organisation)
    client.force_login(UserFactory())

    assert client.get(_url(membership)).status_code == 404
    assert client.post(f"{_url(membership)}{contact.pk}/remove/").status_code == 404
    contact.refresh_from_db()
    assert contact.removed_at is None


def test_another_members_representative_cannot_remove_our_contact(client, membership):
    contact = ContactFactory(organisation=membership.organisation)
    other = MembershipFactory()
    client.force_login(RepresentativeFactory(organisation=other.organisation).user)

    response = client.post(f"/members/membership/{other.pk}/contacts/{contact.pk}/remove/")

    assert response.status_code == 404
    contact.refresh_from_db()
    assert contact.removed_at is None


def test_the_membership_page_links_to_the_contacts(client, membership, representative):
    client.force_login(representative)

    page = client.get("/members/membership/").content.decode()

    assert _url(membership) in page
