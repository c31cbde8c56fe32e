"""The representative resigns on the portal, now or at the end of the period, and may take it
back until it takes effect; the staff are told."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from members.models import (
    EndReason,
    MembershipEvent,
    MembershipEventKind,
    MembershipKind,
    MembershipStatus,
    MembershipStatusChange,
)
from members.services import member as services
from members.services import start_membership
from tests import factories
from tests.members.test_membership_page import member, page_of, signed_in

pytestmark = pytest.mark.django_db

NOTE = "Our council merged with the metropolitan authority."


@pytest.fixture
def staff(db):
    return factories.StaffFactory(first_name="Nadia", last_name="Admin")


@pytest.fixture
def representative(db):
    return factories.UserFactory(first_name="Lucie", last_name="Tremblay", language="en")


def resign_url(membership) -> str:
    return reverse("members:resign", args=[membership.pk])


def test_the_resign_page_says_what_each_choice_does_and_changes_nothing(client, representative):
    membership = member(representative)

    response = signed_in(client, representative).get(resign_url(membership))

    page = response.content.decode()
    assert response.status_code == 200
    assert "At the end of the current period:" in page
    assert "the membership ends on 10 March 2026 instead of renewing" in page
    assert "the membership ends today" in page
    membership.refresh_from_db()
    assert membership.is_active and not membership.resigns_at_period_end


def test_resigning_at_the_end_of_the_period_keeps_it_until_then_and_tells_staff_and_member(
    client, representative, staff, outbox, django_capture_on_commit_callbacks
):
    membership = member(representative)
    signed_in(client, representative)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resign_url(membership), {"when": "period_end", "note": NOTE})

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.resigns_at_period_end
    assert membership.resignation_note == NOTE
    event = MembershipEvent.objects.get(membership=membership)
    assert (event.kind, event.by, event.note) == (
        MembershipEventKind.RESIGNATION,
        representative,
        NOTE,
    )
    (to_staff,) = [m for m in outbox if m.to == [staff.email]]
    assert (
        "Observatoire de la sécurité urbaine resigns at the end of its period" in to_staff.subject
    )
    assert "Lucie Tremblay resigned the membership" in to_staff.body
    assert "10 March 2026" in to_staff.body
    assert NOTE in to_staff.body
    (to_member,) = [m for m in outbox if m.to == [representative.email]]
    assert "your resignation is recorded" in to_member.subject
    assert "continues until 9 March 2026 and ends on 10 March 2026" in to_member.body
    assert "take the resignation back" in to_member.body
    assert "/members/membership/" in to_member.body
    page = page_of(client)
    assert "The member has resigned: the membership ends on 10 March 2026" in page
    assert reverse("members:withdraw_resignation", args=[membership.pk]) in page
    assert resign_url(membership) not in page


def test_resigning_now_ends_the_membership_today_with_the_note(
    client, representative, staff, outbox, django_capture_on_commit_callbacks
):
    membership = member(representative)
    signed_in(client, representative)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(resign_url(membership), {"when": "now", "note": NOTE})

    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ENDED
    assert membership.ended_on == timezone.localdate()
    assert (membership.end_reason, membership.end_note) == (EndReason.RESIGNED, NOTE)
    change = MembershipStatusChange.objects.filter(membership=membership).latest("at")
    assert (change.to_status, change.actor, change.note) == (
        MembershipStatus.ENDED,
        representative,
        f"Resigned: {NOTE}",
    )
    (to_staff,) = [m for m in outbox if m.to == [staff.email]]
    assert "Observatoire de la sécurité urbaine has resigned" in to_staff.subject
    assert "with immediate effect" in to_staff.body
    (to_member,) = [m for m in outbox if m.to == [representative.email]]
    assert "your membership of the Centre has ended" in to_member.subject
    page = page_of(client)
    assert "The membership ended on" in page and "Resigned" in page and NOTE in page
    assert "Applying again" in page


def test_a_resignation_form_without_a_choice_is_shown_again_with_what_was_typed(
    client, representative
):
    membership = member(representative)

    response = signed_in(client, representative).post(resign_url(membership), {"note": NOTE})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose when the resignation takes effect." in page
    assert NOTE in page
    membership.refresh_from_db()
    assert membership.is_active and not membership.resigns_at_period_end


def test_the_resignation_can_be_taken_back_until_it_takes_effect(
    client, representative, staff, outbox, django_capture_on_commit_callbacks
):
    membership = member(representative)
    services.resign_membership(
        membership=membership, by=representative, at_period_end=True, note=NOTE
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(client, representative).post(
            reverse("members:withdraw_resignation", args=[membership.pk])
        )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_active and not membership.resigns_at_period_end
    assert membership.resignation_note == ""
    assert MembershipEvent.objects.filter(
        membership=membership, kind=MembershipEventKind.RESIGNATION_WITHDRAWN, by=representative
    ).exists()
    (to_staff,) = outbox
    assert to_staff.to == [staff.email]
    assert "took back its resignation" in to_staff.subject
    assert "Lucie Tremblay took back the resignation" in to_staff.body
    page = page_of(client)
    assert "Resignation taken back" in page
    assert "Next renewal" in page


def test_there_is_nothing_to_take_back_without_a_resignation(client, representative):
    membership = member(representative)

    response = signed_in(client, representative).post(
        reverse("members:withdraw_resignation", args=[membership.pk]), follow=True
    )

    assert "There is no resignation to take back." in response.content.decode()


def test_a_resignation_cannot_be_taken_back_once_it_took_effect(representative):
    membership = member(representative)
    services.resign_membership(membership=membership, by=representative, at_period_end=False)

    with pytest.raises(ValidationError, match="nothing more can be changed"):
        services.withdraw_resignation(membership=membership, by=representative)


def test_resigning_twice_is_refused(representative):
    membership = member(representative)
    services.resign_membership(membership=membership, by=representative, at_period_end=True)

    with pytest.raises(ValidationError, match="already resigned"):
        services.resign_membership(membership=membership, by=representative, at_period_end=False)

    membership.refresh_from_db()
    assert membership.is_active


def test_an_ended_membership_refuses_a_resignation_with_a_clear_message(client, representative):
    membership = member(representative)
    services.resign_membership(membership=membership, by=representative, at_period_end=False)

    with pytest.raises(ValidationError, match="This membership ended on"):
        services.resign_membership(membership=membership, by=representative, at_period_end=True)
    response = signed_in(client, representative).get(resign_url(membership), follow=True)
    assert "This membership has already ended." in response.content.decode()


def test_only_the_current_representative_may_resign(client, representative):
    membership = member(representative)
    stranger = factories.UserFactory()

    with pytest.raises(PermissionDenied):
        services.resign_membership(membership=membership, by=stranger, at_period_end=False)
    response = signed_in(client, stranger).post(resign_url(membership), {"when": "now"})

    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.is_active


def test_an_honorary_membership_only_ends_at_once(representative):
    membership = start_membership(
        person=representative,
        kind=MembershipKind.HONORARY,
        on=timezone.localdate(),
        by=None,
        reason="Appointed.",
    )

    with pytest.raises(ValidationError, match="does not renew"):
        services.resign_membership(membership=membership, by=representative, at_period_end=True)

    services.resign_membership(membership=membership, by=representative, at_period_end=False)
    membership.refresh_from_db()
    assert membership.end_reason == EndReason.RESIGNED
