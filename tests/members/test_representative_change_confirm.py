"""Staff confirm or refuse a change of representative the member asked for: the new person is
invited by email to accept, the old one loses the member's access and is told."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import STAFF_GROUP, User
from core.models import OutboxMessage
from members.models import (
    EndReason,
    MembershipEvent,
    MembershipEventKind,
    Qualification,
    Representative,
    RepresentativeChange,
    RepresentativeChangeStatus,
    RepresentativeStatus,
)
from members.services import end_membership, staff
from tests import factories
from tests.factories import with_totp

pytestmark = pytest.mark.django_db


# What the Staff role is granted on the lifecycle's models (the roles migration asked of the
# lead); granted here too, so that these tests read the screens as the Staff role will.
STAFF_READS = [
    "view_renewalnotice",
    "view_representativechange",
    "view_membershipevent",
    "view_membershiprenewal",
]


@pytest.fixture(autouse=True)
def _staff_reads_the_lifecycle(db):
    Group.objects.get(name=STAFF_GROUP).permissions.add(
        *Permission.objects.filter(content_type__app_label="members", codename__in=STAFF_READS)
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(with_totp(staff_user))
    return client


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def old():
    membership = factories.MembershipFactory(organisation__name="Safer Lyon")
    return factories.RepresentativeFactory(
        organisation=membership.organisation,
        user__first_name="Odile",
        user__email="odile@example.org",
        user__language="en",
    )


def asked(old: Representative, *, email: str = "nadia@example.org", by=None):
    return RepresentativeChange.objects.create(
        organisation=old.organisation,
        requested_by=by or old.user,
        first_name="Nadia",
        last_name="Benali",
        email=email,
        language="en",
        title="Deputy Mayor for Safety",
        qualification=Qualification.ELECTED,
    )


def mail_to(outbox, address: str):
    found = [m for m in outbox if m.to == [address]]
    assert len(found) == 1, [m.to for m in outbox]
    return found[0]


def test_confirming_invites_the_new_person_and_replaces_the_old_one(
    old, staff_user, outbox, committed
):
    change = asked(old)

    with committed():
        representative = staff.confirm_representative_change(change=change, by=staff_user)

    new = User.objects.get(email="nadia@example.org")
    assert (new.first_name, new.last_name) == ("Nadia", "Benali")
    assert (representative.user, representative.status) == (new, RepresentativeStatus.PROPOSED)
    assert (representative.title, representative.qualification) == (
        "Deputy Mayor for Safety",
        Qualification.ELECTED,
    )
    old.refresh_from_db()
    assert old.status == RepresentativeStatus.ENDED
    assert not Representative.objects.current().filter(organisation=old.organisation).exists()
    change.refresh_from_db()
    assert change.status == RepresentativeChangeStatus.CONFIRMED
    assert (change.decided_by, change.representative) == (staff_user, representative)
    assert change.decided_at is not None
    event = MembershipEvent.objects.get(kind=MembershipEventKind.REPRESENTATIVE_CHANGE_CONFIRMED)
    assert event.by == staff_user

    invitation = mail_to(outbox, "nadia@example.org")
    # The link signs the new person in: the outbox keeps it from the staff's eyes.
    assert OutboxMessage.objects.get(to="nadia@example.org").sensitive
    assert "Safer Lyon" in invitation.subject
    assert "/accounts/password/reset/key/" in invitation.body
    assert reverse("accounts:profile") in invitation.body
    assert "accept" in invitation.body
    farewell = mail_to(outbox, "odile@example.org")
    assert "no longer represent Safer Lyon" in farewell.subject
    assert "Nadia Benali" in farewell.body
    assert len(outbox) == 2


def test_a_person_with_an_account_gets_no_password_link(old, staff_user, outbox, committed):
    factories.UserFactory(email="nadia@example.org", first_name="Nadia", language="en")
    change = asked(old)

    with committed():
        staff.confirm_representative_change(change=change, by=staff_user)

    invitation = mail_to(outbox, "nadia@example.org")
    assert "/accounts/password/reset/key/" not in invitation.body
    assert User.objects.filter(email="nadia@example.org").count() == 1


def test_a_colleague_who_asked_is_told_the_change_is_confirmed(old, staff_user, outbox, committed):
    colleague = factories.UserFactory(email="colleague@example.org", language="en")
    change = asked(old, by=colleague)

    with committed():
        staff.confirm_representative_change(change=change, by=staff_user)

    confirmed = mail_to(outbox, "colleague@example.org")
    assert "confirmed" in confirmed.subject
    assert "Nadia Benali" in confirmed.body


def test_refusing_tells_the_member_why_and_keeps_the_representative(
    old, staff_user, outbox, committed
):
    change = asked(old)

    with committed():
        staff.refuse_representative_change(
            change=change, by=staff_user, note="A consultant is not a permanent employee."
        )

    change.refresh_from_db()
    assert (change.status, change.decided_by, change.decision_note) == (
        RepresentativeChangeStatus.REFUSED,
        staff_user,
        "A consultant is not a permanent employee.",
    )
    old.refresh_from_db()
    assert old.status == RepresentativeStatus.CURRENT
    assert not User.objects.filter(email="nadia@example.org").exists()
    refusal = mail_to(outbox, "odile@example.org")
    assert "not confirmed" in refusal.subject
    assert "A consultant is not a permanent employee." in refusal.body
    assert MembershipEvent.objects.get().kind == MembershipEventKind.REPRESENTATIVE_CHANGE_REFUSED


def test_a_refusal_needs_a_reason(old, staff_user):
    with pytest.raises(ValidationError):
        staff.refuse_representative_change(change=asked(old), by=staff_user, note=" ")


def test_a_change_is_decided_once(old, staff_user):
    change = asked(old)
    staff.refuse_representative_change(change=change, by=staff_user, note="Not qualified.")

    with pytest.raises(ValidationError):
        staff.confirm_representative_change(change=change, by=staff_user)
    assert not User.objects.filter(email="nadia@example.org").exists()


def test_only_the_staff_decide(old, director):
    change = asked(old)

    with pytest.raises(PermissionDenied):
        staff.confirm_representative_change(change=change, by=director)
    with pytest.raises(PermissionDenied):
        staff.refuse_representative_change(change=change, by=director, note="No.")
    change.refresh_from_db()
    assert change.status == RepresentativeChangeStatus.PENDING


# --- the admin's queue -----------------------------------------------------------------------


def test_the_queue_opens_on_the_pending_changes(staff_client, old, staff_user):
    pending = asked(old)
    other = factories.RepresentativeFactory(organisation__name="Quartiers sûrs")
    decided = asked(other, email="x@example.org")
    staff.refuse_representative_change(change=decided, by=staff_user, note="No.")

    page = staff_client.get(reverse("admin:members_representativechange_changelist"))

    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [pending]


def test_confirming_from_the_admin(staff_client, old):
    change = asked(old)
    detail = staff_client.get(
        reverse("admin:members_representativechange_change", args=[change.pk])
    )
    url = reverse("admin:members_representativechange_confirm", args=[change.pk])
    assert url in detail.text
    assert "odile@example.org" in detail.text  # the current representative, beside the new one

    assert "csrfmiddlewaretoken" in staff_client.get(url).text
    response = staff_client.post(url, {})

    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == RepresentativeChangeStatus.CONFIRMED


def test_refusing_from_the_admin_needs_the_reason_next_to_the_field(staff_client, old):
    change = asked(old)
    url = reverse("admin:members_representativechange_refuse", args=[change.pk])

    empty = staff_client.post(url, {"note": ""})
    assert empty.status_code == 200
    assert empty.context["form"].errors["note"]
    done = staff_client.post(url, {"note": "Not qualified."})

    assert done.status_code == 302
    change.refresh_from_db()
    assert change.status == RepresentativeChangeStatus.REFUSED


def test_a_director_without_staff_rights_cannot_see_nor_decide(client, old):
    director = factories.DirectorFactory()
    client.force_login(director)
    change = asked(old)

    listing = client.get(reverse("admin:members_representativechange_changelist"))
    confirm = client.post(reverse("admin:members_representativechange_confirm", args=[change.pk]))

    assert listing.status_code == 403
    assert confirm.status_code == 403
    change.refresh_from_db()
    assert change.status == RepresentativeChangeStatus.PENDING


def test_a_change_for_a_membership_that_has_ended_cannot_be_confirmed(old, staff_user, outbox):
    change = asked(old)
    membership = old.organisation.memberships.get()
    end_membership(
        membership=membership,
        reason=EndReason.RESIGNED,
        note="",
        on=membership.period_start,
        by=None,
    )

    with pytest.raises(ValidationError, match="membership has ended"):
        staff.confirm_representative_change(change=change, by=staff_user)

    change.refresh_from_db()
    assert change.status == RepresentativeChangeStatus.PENDING
    assert not User.objects.filter(email="nadia@example.org").exists()


def test_staff_designate_a_representative_for_a_member_with_none(
    staff_client, staff_user, outbox, committed
):
    membership = factories.MembershipFactory(
        organisation__name="Fondation pour la paix urbaine", kind="honorary"
    )
    url = reverse("admin:members_membership_designate", args=[membership.pk])

    page = staff_client.get(url).content.decode()
    with committed():
        response = staff_client.post(
            url,
            {
                "first_name": "Inès",
                "last_name": "Moreau",
                "email": "ines@example.org",
                "language": "fr",
                "title": "Présidente",
                "qualification": Qualification.ELECTED,
            },
        )

    assert "Designate and invite" in page
    assert response.status_code == 302
    designation = Representative.objects.get(organisation=membership.organisation)
    assert (designation.user.email, designation.status) == (
        "ines@example.org",
        RepresentativeStatus.PROPOSED,
    )
    (invitation,) = [m for m in outbox if m.to == ["ines@example.org"]]
    assert "/accounts/password/reset/key/" in invitation.body
    assert not [m for m in outbox if m.to == [staff_user.email]]  # no word of their own act


def test_a_representative_designated_by_staff_waits_for_a_pending_request_to_be_decided(
    old, staff_user
):
    asked(old)

    with pytest.raises(ValidationError, match="confirm or refuse it"):
        staff.designate_for_member(
            organisation=old.organisation,
            by=staff_user,
            first_name="X",
            last_name="Y",
            email="x@example.org",
            language="en",
            title="Director",
            qualification=Qualification.DIRECTOR,
        )
