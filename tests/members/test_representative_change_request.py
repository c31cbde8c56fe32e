"""The member designates a new representative and declares the qualification; the staff are
told and confirm it (their side is elsewhere); one change waits at a time."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from members.models import (
    EndReason,
    MembershipEvent,
    MembershipEventKind,
    Qualification,
    RepresentativeChange,
    RepresentativeChangeStatus,
)
from members.services import end_membership
from members.services import member as services
from tests import factories
from tests.concurrency import race
from tests.members.test_membership_page import member, page_of, signed_in

pytestmark = pytest.mark.django_db

NEW = {
    "first_name": "Ana",
    "last_name": "Souza",
    "email": "Ana.Souza@example.org",
    "language": "fr",
    "title": "Mayor",
    "qualification": Qualification.ELECTED,
    "declaration": "on",
}


@pytest.fixture
def staff(db):
    return factories.StaffFactory()


@pytest.fixture
def representative(db):
    return factories.UserFactory(first_name="Lucie", last_name="Tremblay")


def form_url(membership) -> str:
    return reverse("members:change_representative", args=[membership.pk])


def ask(membership, by, **fields):
    data = {**NEW, **fields}
    data.pop("declaration")
    return services.ask_representative_change(organisation=membership.organisation, by=by, **data)


def test_the_member_asks_for_a_new_representative_and_the_staff_are_told(
    client, representative, staff, outbox, django_capture_on_commit_callbacks
):
    membership = member(representative)
    signed_in(client, representative)
    assert client.get(form_url(membership)).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url(membership), NEW)

    assert response.status_code == 302
    change = RepresentativeChange.objects.get()
    assert (change.organisation, change.requested_by, change.status) == (
        membership.organisation,
        representative,
        RepresentativeChangeStatus.PENDING,
    )
    assert (change.first_name, change.last_name, change.email, change.language) == (
        "Ana",
        "Souza",
        "ana.souza@example.org",
        "fr",
    )
    assert (change.title, change.qualification) == ("Mayor", Qualification.ELECTED)
    event = MembershipEvent.objects.get(kind=MembershipEventKind.REPRESENTATIVE_CHANGE)
    assert event.by == representative
    assert "Ana Souza" in event.note
    (email,) = outbox
    assert email.to == [staff.email]
    assert "Observatoire de la sécurité urbaine asks to change its representative" in email.subject
    assert "Lucie Tremblay, representative of Observatoire" in email.body
    assert "Ana Souza <ana.souza@example.org>" in email.body
    assert "Title: Mayor" in email.body
    assert "Qualification declared: Holds an elected position" in email.body
    page = page_of(client)
    assert "Change of representative awaiting the Centre's staff" in page
    assert "Ana Souza" in page
    assert form_url(membership) not in page  # one change at a time
    assert "Lucie Tremblay" in page  # still the representative until the staff confirm


def test_a_form_with_mistakes_says_what_is_wrong_next_to_the_field_and_keeps_the_rest(
    client, representative
):
    membership = member(representative)

    response = signed_in(client, representative).post(
        form_url(membership), {**NEW, "email": "not-an-email", "declaration": ""}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert "Confirm that the person meets the qualification." in page
    assert 'value="Souza"' in page and 'value="Mayor"' in page
    assert not RepresentativeChange.objects.exists()


def test_the_current_representative_cannot_be_designated_again(client, representative):
    membership = member(representative)

    response = signed_in(client, representative).post(
        form_url(membership), {**NEW, "email": representative.email.upper()}
    )

    assert response.status_code == 400
    assert "This person is already the representative." in response.content.decode()
    assert not RepresentativeChange.objects.exists()


def test_a_second_change_is_refused_while_one_waits(client, representative):
    membership = member(representative)
    ask(membership, representative)

    response = signed_in(client, representative).post(
        form_url(membership), {**NEW, "email": "someone.else@example.org"}, follow=True
    )

    assert response.redirect_chain == [(reverse("members:membership"), 302)]
    assert "already awaiting the staff" in response.content.decode()
    with pytest.raises(ValidationError, match="already awaiting the staff"):
        ask(membership, representative, email="third@example.org")
    assert RepresentativeChange.objects.count() == 1


def test_a_waiting_change_can_be_withdrawn_and_the_staff_are_told(
    client, representative, staff, outbox, django_capture_on_commit_callbacks
):
    membership = member(representative)
    change = ask(membership, representative)
    signed_in(client, representative)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:withdraw_representative_change", args=[change.pk]))

    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (
        RepresentativeChangeStatus.WITHDRAWN,
        representative,
    )
    withdrawn = [m for m in outbox if "withdrew its change of representative" in m.subject]
    assert [m.to for m in withdrawn] == [[staff.email]]
    assert "Lucie Tremblay withdrew the change" in withdrawn[0].body
    page = page_of(client)
    assert "Change of representative withdrawn" in page
    assert form_url(membership) in page
    ask(membership, representative, email="next@example.org")  # a new one may be asked


def test_a_decided_change_cannot_be_withdrawn(representative):
    membership = member(representative)
    change = ask(membership, representative)
    RepresentativeChange.objects.filter(pk=change.pk).update(
        status=RepresentativeChangeStatus.CONFIRMED
    )

    with pytest.raises(ValidationError, match="already decided"):
        services.withdraw_representative_change(change=change, by=representative)


def test_only_the_current_representative_may_ask_or_withdraw(client, representative):
    membership = member(representative)
    change = ask(membership, representative)
    stranger = factories.UserFactory()

    with pytest.raises(PermissionDenied):
        ask(membership, stranger, email="x@example.org")
    with pytest.raises(PermissionDenied):
        services.withdraw_representative_change(change=change, by=stranger)
    signed_in(client, stranger)
    assert client.get(form_url(membership)).status_code == 404
    withdraw = reverse("members:withdraw_representative_change", args=[change.pk])
    assert client.post(withdraw).status_code == 404
    change.refresh_from_db()
    assert change.status == RepresentativeChangeStatus.PENDING


def test_an_ended_membership_refuses_a_change_of_representative(client, representative):
    membership = member(representative)
    end_membership(
        membership=membership,
        reason=EndReason.RESIGNED,
        note="",
        on=membership.started_on,
        by=None,
        tell=False,
    )

    with pytest.raises(ValidationError, match="This membership ended on"):
        ask(membership, representative)
    response = signed_in(client, representative).get(form_url(membership), follow=True)
    assert "Only a current member organisation has a representative." in response.content.decode()
    assert not RepresentativeChange.objects.exists()


# --- Two requests at once, on PostgreSQL: each thread has its own connection and transaction.


@pytest.mark.django_db(transaction=True)
def test_two_changes_asked_at_once_leave_one_waiting(postgres, representative):
    membership = member(representative)

    results = race(
        lambda: ask(membership, representative, email="first@example.org"),
        lambda: ask(membership, representative, email="second@example.org"),
    )

    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    assert RepresentativeChange.objects.pending().count() == 1
    assert (
        MembershipEvent.objects.filter(kind=MembershipEventKind.REPRESENTATIVE_CHANGE).count() == 1
    )
